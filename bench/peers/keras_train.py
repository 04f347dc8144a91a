# The Keras peer of bench/peers.ts: the seed recipe (seed_recipe.py) with plain model.fit and a
# LearningRateScheduler. Prints one JSON line. Usage: keras_train.py MNIST_DIR [EPOCHS=10] [MAX_SAMPLES]
import json
import os
import resource
import sys
import time

wall_started = time.perf_counter()
# No __pycache__ of seed_recipe.py beside the project's sources.
sys.dont_write_bytecode = True
# TensorFlow's start-up chatter would otherwise fill the benchmark's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import seed_recipe as recipe  # noqa: E402


class EpochClock(keras.callbacks.Callback):
    """Training seconds without the per-epoch validation (as Stratus counts them), and CPU over the epoch loop."""

    def __init__(self):
        super().__init__()
        self.train_seconds = 0.0
        self.epoch_started = None

    def on_train_begin(self, logs=None):
        self.cpu_started = recipe.cpu_seconds(resource.RUSAGE_SELF)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.perf_counter()

    def _stop(self):
        if self.epoch_started is not None:
            self.train_seconds += time.perf_counter() - self.epoch_started
            self.epoch_started = None

    # fit() validates through evaluate(), which calls on_test_begin: the training steps end there.
    def on_test_begin(self, logs=None):
        self._stop()

    def on_epoch_end(self, epoch, logs=None):
        self._stop()
        self.cpu_seconds = recipe.cpu_seconds(resource.RUSAGE_SELF) - self.cpu_started


def main():
    mnist_dir, epochs, max_samples = recipe.parse_args(sys.argv)
    keras.utils.set_random_seed(recipe.SEED)
    (x, y), validation, (x_test, y_test) = recipe.load_split(mnist_dir, max_samples)
    model = recipe.build_model(keras)
    model.compile(optimizer=recipe.adam(keras), loss="categorical_crossentropy", metrics=["accuracy"])
    clock = EpochClock()
    model.fit(
        x,
        y,
        batch_size=recipe.BATCH_SIZE,
        epochs=epochs,
        verbose=0,
        shuffle=True,
        validation_data=validation,
        callbacks=[keras.callbacks.LearningRateScheduler(recipe.learning_rate), clock],
    )
    _, test_accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    samples = len(x) * epochs
    print(
        json.dumps(
            {
                "peer": "keras",
                "tensorflow": tf.__version__,
                "keras": keras.__version__,
                "epochs": epochs,
                "trainSamples": len(x),
                "trainSeconds": round(clock.train_seconds, 3),
                "samplesPerSecond": round(samples / clock.train_seconds),
                "wallSeconds": round(time.perf_counter() - wall_started, 3),
                "testAccuracy": round(float(test_accuracy), 4),
                "cpuMsPer1000Samples": round(clock.cpu_seconds * 1e6 / samples, 1),
                "cpuCounted": recipe.CPU_COUNTED_SELF,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
