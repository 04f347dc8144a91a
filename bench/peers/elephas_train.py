# The Elephas peer of bench/peers.ts: the seed recipe (seed_recipe.py) through the seed paper's pipeline,
# Keras on Spark with Elephas, Spark in local[2] mode. Prints one JSON line.
# Usage: elephas_train.py MNIST_DIR [EPOCHS=10] [MAX_SAMPLES]
#
# Elephas 7.3's SparkModel is its synchronous mode (the asynchronous and hogwild modes are
# AsynchronousSparkModel, with a parameter server): every epoch the driver broadcasts the weights, each
# of the 2 partitions trains one epoch on its half of the data in a Spark Python worker, and the driver
# averages the two weight deltas. That is the paper's mode='synchronous', frequency='epoch'.
# What Elephas 7.3 does and we keep, because it is the pipeline being measured: each worker rebuilds the
# model and a fresh Adam every epoch, so Adam's moments restart every epoch.
# The learning-rate schedule: a Keras callback on the workers would see epoch 0 every time (each fit
# there is one epoch), so the driver runs fit one epoch at a time and sets the rate it ships.
import contextlib
import json
import os
import sys
import time

wall_started = time.perf_counter()
# No __pycache__ of seed_recipe.py beside the project's sources.
sys.dont_write_bytecode = True
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The Spark Python workers must run this venv's interpreter, which has TensorFlow and Elephas.
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
# Spark would otherwise bind to the machine's outward address; everything here is local.
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

from importlib.metadata import version  # noqa: E402

import keras  # noqa: E402
import pyspark  # noqa: E402
import tensorflow as tf  # noqa: E402
from elephas.spark_model import SparkModel  # noqa: E402
from elephas.utils.rdd_utils import to_simple_rdd  # noqa: E402

import seed_recipe as recipe  # noqa: E402

CPU_COUNTED = (
    "user+sys of this process and all its descendants (the Spark JVM and its Python workers; /proc, "
    "reaped children included) over the epoch loop, per-epoch validation included"
)


def _ticks(pid: int):
    """(parent pid, utime+stime+cutime+cstime) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[1]), sum(int(x) for x in fields[11:15])


def tree_cpu_seconds() -> float:
    """RUSAGE_CHILDREN counts only children that have exited and been waited for, and the JVM lives on
    until the end; so this sums the CPU of the live process tree from /proc instead."""
    processes = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _ticks(int(entry))):
            processes[int(entry)] = stat
    tree, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _) in processes.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(processes[pid][1] for pid in tree if pid in processes) / os.sysconf("SC_CLK_TCK")


def spark_context() -> pyspark.SparkContext:
    conf = (
        pyspark.SparkConf()
        .setMaster("local[2]")
        .setAppName("stratus-peers-elephas")
        # The training set is parallelised from the driver: 54,000 images are ~200 MB pickled.
        .set("spark.driver.memory", "4g")
        .set("spark.driver.maxResultSize", "2g")
        .set("spark.ui.enabled", "false")
    )
    context = pyspark.SparkContext(conf=conf)
    context.setLogLevel("ERROR")
    return context


def main():
    mnist_dir, epochs, max_samples = recipe.parse_args(sys.argv)
    keras.utils.set_random_seed(recipe.SEED)
    (x, y), (x_val, y_val), (x_test, y_test) = recipe.load_split(mnist_dir, max_samples)
    context = spark_context()
    rdd = to_simple_rdd(context, x, y)
    model = recipe.build_model(keras)
    model.compile(optimizer=recipe.adam(keras), loss="categorical_crossentropy", metrics=["accuracy"])
    # num_workers=None keeps parallelize's 2 partitions (local[2]) instead of reshuffling them every fit.
    spark_model = SparkModel(model, mode="synchronous", frequency="epoch")

    train_seconds = 0.0
    cpu_started = tree_cpu_seconds()
    # Elephas prints its progress on stdout, where this script's JSON line goes.
    with contextlib.redirect_stdout(sys.stderr):
        for epoch in range(epochs):
            spark_model.master_optimizer.learning_rate = recipe.learning_rate(epoch)
            started = time.perf_counter()
            spark_model.fit(rdd, epochs=1, batch_size=recipe.BATCH_SIZE, verbose=0, shuffle=True)
            train_seconds += time.perf_counter() - started
            # Validated on the driver after every epoch, as Stratus does, outside the training seconds.
            spark_model.master_network.evaluate(x_val, y_val, batch_size=256, verbose=0)
        cpu_seconds = tree_cpu_seconds() - cpu_started
        _, test_accuracy = spark_model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    context.stop()

    samples = len(x) * epochs
    print(
        json.dumps(
            {
                "peer": "elephas",
                "elephas": version("elephas"),
                "pyspark": pyspark.__version__,
                "tensorflow": tf.__version__,
                "keras": keras.__version__,
                "epochs": epochs,
                "trainSamples": len(x),
                "trainSeconds": round(train_seconds, 3),
                "samplesPerSecond": round(samples / train_seconds),
                "wallSeconds": round(time.perf_counter() - wall_started, 3),
                "testAccuracy": round(float(test_accuracy), 4),
                "cpuMsPer1000Samples": round(cpu_seconds * 1e6 / samples, 1),
                "cpuCounted": CPU_COUNTED,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
