# The seed recipe's data and model, shared by the Python peers of bench/peers.ts (keras_train.py,
# elephas_train.py) so that both train exactly the same thing. Reads the MNIST IDX files itself: the
# benchmark runs offline, and keras.datasets would download them.
import gzip
import os
import resource

import numpy as np

SEED = 42
TRAIN_COUNT = 60_000
# Stratus holds out the first 10 % of a seeded shuffle for validation and trains on the rest.
VALIDATION_COUNT = 6_000
BATCH_SIZE = 64
LEARNING_RATE = 0.001
LR_DECAY = 0.7
# What cpuMsPer1000Samples counts, said in every peer's JSON line.
CPU_COUNTED_SELF = "user+sys of this process (RUSAGE_SELF, all threads) over the epoch loop, per-epoch validation included"


def learning_rate(epoch: int, _current: float = 0.0) -> float:
    return LEARNING_RATE * LR_DECAY**epoch


def _idx(directory: str, name: str) -> np.ndarray:
    path = os.path.join(directory, name)
    if os.path.exists(path):
        with open(path, "rb") as f:
            data = f.read()
    else:
        with gzip.open(path + ".gz", "rb") as f:
            data = f.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def _images(raw: np.ndarray) -> np.ndarray:
    return (raw.astype(np.float32) / 255.0).reshape(-1, 28, 28, 1)


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(10, dtype=np.float32)[labels]


def load_split(directory: str, max_samples: int | None):
    """(train, validation, test) as (images, one-hot labels) pairs; train is at most max_samples."""
    images = _images(_idx(directory, "train-images-idx3-ubyte"))
    labels = _one_hot(_idx(directory, "train-labels-idx1-ubyte"))
    order = np.random.default_rng(SEED).permutation(len(images))
    validation = order[:VALIDATION_COUNT]
    train = order[VALIDATION_COUNT:]
    if max_samples is not None:
        train = train[:max_samples]
    test = (_images(_idx(directory, "t10k-images-idx3-ubyte")), _one_hot(_idx(directory, "t10k-labels-idx1-ubyte")))
    return (images[train], labels[train]), (images[validation], labels[validation]), test


def build_model(keras):
    """Conv2D(32, 3×3) → MaxPool(2) → Flatten → Dense(100) → Dense(10), the initialisers of the recipe."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", padding="valid", kernel_initializer="he_uniform"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(100, activation="relu", kernel_initializer="he_uniform"),
            layers.Dense(10, activation="softmax", kernel_initializer="glorot_uniform"),
        ]
    )


def adam(keras):
    return keras.optimizers.Adam(learning_rate=LEARNING_RATE, beta_1=0.9, beta_2=0.999)


def cpu_seconds(*who: int) -> float:
    """user + sys CPU seconds of RUSAGE_SELF and/or RUSAGE_CHILDREN (children count once they are waited for)."""
    usages = [resource.getrusage(w) for w in who]
    return sum(u.ru_utime + u.ru_stime for u in usages)


def parse_args(argv: list[str]):
    """MNIST_DIR [EPOCHS=10] [MAX_SAMPLES]"""
    if not 2 <= len(argv) <= 4:
        raise SystemExit(f"usage: {os.path.basename(argv[0])} MNIST_DIR [EPOCHS=10] [MAX_SAMPLES]")
    epochs = int(argv[2]) if len(argv) > 2 else 10
    max_samples = int(argv[3]) if len(argv) > 3 else None
    return argv[1], epochs, max_samples
