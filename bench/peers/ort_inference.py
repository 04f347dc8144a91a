# The Python peer of bench/inference.ts: ONNX Runtime's Python API running the same model.onnx, one
# intra-op thread, the same batch sizes, the same kind of images; CPU time of this process per image.
# Prints one JSON line per batch size. Run by bench/inference.ts --peer, in a venv it makes under .tmp/.
import json
import sys
import time

import numpy as np
import onnxruntime as ort

model_path, batches, seconds = sys.argv[1], [int(b) for b in sys.argv[2].split(",")], float(sys.argv[3])

options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
input_name = session.get_inputs()[0].name
image_shape = [d for d in session.get_inputs()[0].shape[1:]]
rng = np.random.default_rng(7)

for batch in batches:
    # Mostly black with some grey, as a drawn digit is (bench/inference.ts makes its images the same way).
    images = np.where(rng.random((batch, *image_shape)) < 0.2, rng.random((batch, *image_shape)), 0).astype(np.float32)
    for _ in range(5):
        session.run(None, {input_name: images})
    wall_start = time.perf_counter()
    cpu_start = time.process_time()
    calls = 0
    while time.perf_counter() - wall_start < seconds:
        session.run(None, {input_name: images})
        calls += 1
    cpu = time.process_time() - cpu_start
    print(json.dumps({"batch": batch, "cpuMicrosPerImage": cpu * 1e6 / (calls * batch), "calls": calls}), flush=True)

print(json.dumps({"onnxruntime": ort.__version__, "numpy": np.__version__}), flush=True)
