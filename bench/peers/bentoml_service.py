# The Python serving peer of bench/serving-peers.ts: BentoML with adaptive batching, running Stratus's
# embedded model (its ONNX export, path in STRATUS_ONNX_MODEL) under ONNX Runtime, behind the same JSON
# contract as Stratus's POST /api/predict. Started by the bench with `bentoml serve`.
#
# Two services, as BentoML's adaptive-batching guide has it: a batchable endpoint takes a batch as its one
# argument, so a client sending one digit as {"pixels": [784 floats]} needs a plain endpoint in front that
# hands its digit on to the batchable one through bentoml.depends (a separate process, called over a local
# socket). That hop is part of what a user of this pattern pays, so it stays in.
import os

import bentoml
import numpy as np

# Workers (each a process): gateway 1, model 1, one process a core. Tried on 2 cores, 64 connections, 4 s
# each (with another benchmark busy on the machine, so re-check on a quiet one): gateway 1 / model 1
# 218 req/s, p99 635 ms, 5.1 ms CPU a request; gateway 2 / model 1 218 req/s, p99 1.02 s, 6.7 ms CPU.
# Same throughput, a quarter less CPU and a better tail with one; a second model worker would only halve
# the batches. BENTO_GATEWAY_WORKERS / BENTO_MODEL_WORKERS try others.
WORKERS_GATEWAY = int(os.environ.get("BENTO_GATEWAY_WORKERS", "1"))
WORKERS_MODEL = int(os.environ.get("BENTO_MODEL_WORKERS", "1"))

# No line per request: Stratus runs at --log-level warn in the same bench.
QUIET = {"access": {"enabled": False}}


@bentoml.service(workers=WORKERS_MODEL, traffic={"timeout": 30}, logging=QUIET)
class DigitModel:
    def __init__(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # One thread per worker process, as Stratus's model worker runs: the cores go to processes, not to
        # threads contending inside one batch.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(os.environ["STRATUS_ONNX_MODEL"], options, providers=["CPUExecutionProvider"])

    # max_latency_ms bounds queueing + the batch's run; past it BentoML answers 503, so it is generous
    # enough that 64 connections never hit it on 2 cores, the dispatcher's own regression keeps waits short.
    @bentoml.api(batchable=True, batch_dim=0, max_batch_size=64, max_latency_ms=1000)
    def infer(self, images: np.ndarray) -> np.ndarray:
        batch = images.astype(np.float32, copy=False).reshape(-1, 28, 28, 1)
        return self.session.run(["probabilities"], {"images": batch})[0]


@bentoml.service(workers=WORKERS_GATEWAY, traffic={"timeout": 30}, logging=QUIET)
class DigitGateway:
    model = bentoml.depends(DigitModel)

    @bentoml.api(route="/api/predict")
    async def predict(self, pixels: list[float]) -> dict:
        if len(pixels) != 784:
            raise bentoml.exceptions.InvalidArgument("pixels must hold 784 numbers")
        image = np.asarray(pixels, dtype=np.float32).reshape(1, 784)
        probabilities = (await self.model.to_async.infer(image))[0]
        return {"digit": int(np.argmax(probabilities)), "probabilities": probabilities.tolist()}
