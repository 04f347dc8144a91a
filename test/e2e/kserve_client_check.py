"""Drives a running Stratus with Triton's own HTTP client (tritonclient.http, from PyPI) and prints what
the client saw as one JSON object on stdout. It judges nothing itself: test/e2e/kserve-client.test.ts
asserts on the output, so a failure reads as a test failure with the values in it.

usage: python kserve_client_check.py HOST:PORT IMAGES.json
IMAGES.json: {"images": [[784 pixels in 0..1], ...]}
"""

import json
import sys
from importlib.metadata import version

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

MODEL = "mnist"
PIXELS = 784

def json_input(batch):
    tensor = httpclient.InferInput("image", list(batch.shape), "FP32")
    # binary_data=False: the tensor goes in the JSON body, the only form Stratus takes.
    tensor.set_data_from_numpy(batch, binary_data=False)
    return tensor


def json_outputs(*names):
    return [httpclient.InferRequestedOutput(name, binary_data=False) for name in names]


def refusal(call):
    """What the client raised for a request the server refused; None if it did not raise."""
    try:
        call()
    except InferenceServerException as error:
        return {"status": error.status(), "message": error.message()}
    return None


def main():
    url, images_path = sys.argv[1], sys.argv[2]
    with open(images_path) as f:
        batch = np.array(json.load(f)["images"], dtype=np.float32)
    client = httpclient.InferenceServerClient(url=url)
    seen = {
        "client_version": version("tritonclient"),
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(MODEL),
        "server_metadata": client.get_server_metadata(),
        "model_metadata": client.get_model_metadata(MODEL),
    }

    answer = client.infer(
        MODEL, [json_input(batch)], outputs=json_outputs("probabilities", "digit"), request_id="kserve-check-1"
    )
    response = answer.get_response()
    seen["infer"] = {
        "id": response["id"],
        "model_name": response["model_name"],
        "output_names": [output["name"] for output in response["outputs"]],
        "probabilities": answer.as_numpy("probabilities").tolist(),
        "probabilities_shape": list(answer.as_numpy("probabilities").shape),
        "digits": answer.as_numpy("digit").tolist(),
        "digits_dtype": str(answer.as_numpy("digit").dtype),
    }

    # One output asked for: the other is not in the answer.
    digit_only = client.infer(MODEL, [json_input(batch[:1])], outputs=json_outputs("digit"))
    seen["digit_only"] = {
        "output_names": [output["name"] for output in digit_only.get_response()["outputs"]],
        "digits": digit_only.as_numpy("digit").tolist(),
        "probabilities_absent": digit_only.as_numpy("probabilities") is None,
    }

    short = np.zeros((1, PIXELS - 1), dtype=np.float32)
    seen["wrong_shape"] = refusal(
        lambda: client.infer(MODEL, [json_input(short)], outputs=json_outputs("digit"))
    )
    seen["unknown_output"] = refusal(
        lambda: client.infer(MODEL, [json_input(batch[:1])], outputs=json_outputs("logits"))
    )

    # The client's defaults: the input as raw bytes after the JSON, and every output asked for in binary.
    def binary_defaults():
        tensor = httpclient.InferInput("image", [1, PIXELS], "FP32")
        tensor.set_data_from_numpy(batch[:1])
        client.infer(MODEL, [tensor])

    seen["binary_defaults"] = refusal(binary_defaults)
    client.close()
    json.dump(seen, sys.stdout)


if __name__ == "__main__":
    main()
