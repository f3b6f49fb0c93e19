"""Real data for training, from local files only (nothing downloads at run time).

Both loaders return ``X_train, y_train, X_test, y_test``: X as float rows scaled to
[0, 1] (one flattened image per row), y as int64 class ids 0..9.

- :func:`digits`: scikit-learn's bundled 8x8 digits (1797 images, 64 features), split
  reproducibly; needs scikit-learn (the ``examples`` extra).
- :func:`load_mnist`: MNIST from Keras' ``mnist.npz`` or the four IDX files of the
  original distribution, 28x28 images flattened to 784 features (as the tutorials do).
"""

from __future__ import annotations

import gzip
import math
import numbers
import os
import zlib

import numpy as np
from numpy.typing import NDArray

from .files import MAX_RATIO, RATIO_FREE_BYTES, NpzReader, check_memory, check_path
from .validation import check_dtype, rng_from

MNIST_NPZ = "mnist.npz"
MNIST_IDX = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_WHERE = (
    "Put Keras' mnist.npz (keys x_train, y_train, x_test, y_test; keras.datasets.mnist."
    "load_data() caches it as ~/.keras/datasets/mnist.npz) or the four IDX files "
    f"({', '.join(MNIST_IDX.values())}, optionally .gz) in one directory and pass its "
    "path (or the .npz file's path)"
)


def digits(test_size: float = 0.25, seed=0, dtype="float64"):
    """scikit-learn's 8x8 digits: X = pixels / 16 in [0, 1], a seeded train/test split.

    Parameters
    ----------
    test_size : float in (0, 1)
        Fraction of the 1797 images held out: ceil(test_size * 1797) test rows (450 and
        1347 train rows for the default 0.25, as scikit-learn's ``train_test_split``).
    seed : int, numpy Generator or None
        The split is a ``np.random.default_rng(seed)`` permutation; same seed, same split.
    dtype : "float64" or "float32"

    Returns
    -------
    X_train (n_train, 64), y_train (n_train,), X_test (n_test, 64), y_test (n_test,)
        Features in ``dtype``, labels int64 in 0..9.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "refnet.datasets.digits needs scikit-learn, which bundles the data: "
            "pip install scikit-learn (or refnet's extra: pip install 'refnet[examples]')"
        ) from None
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size: expected a float in (0, 1), got {test_size!r}")
    test_size = float(test_size)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size: expected a float in (0, 1), got {test_size}")
    dtype = check_dtype(dtype)
    data = load_digits()
    X = (data.data / 16.0).astype(dtype)  # pixel values 0..16 -> [0, 1]
    y = data.target.astype(np.int64)
    n = X.shape[0]
    n_test = math.ceil(test_size * n)
    if n_test >= n:
        raise ValueError(
            f"test_size: {test_size} leaves no training rows of the {n} images "
            f"(ceil({test_size} * {n}) = {n_test} test rows)"
        )
    order = rng_from(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


def load_mnist(path, dtype="float64"):
    """MNIST from a local ``mnist.npz`` or the four IDX files: pixels / 255, flattened.

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` file, or a directory holding ``mnist.npz`` or the IDX files
        ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each possibly ``.gz``).
    dtype : "float64" or "float32"

    Returns
    -------
    X_train (60000, 784), y_train (60000,), X_test (10000, 784), y_test (10000,)
        For real MNIST; images are flattened row by row to h * w features, scaled from
        uint8 to [0, 1]; labels int64.

    Raises
    ------
    FileNotFoundError
        Naming the files expected and where to put them.
    ValueError
        For a malformed file, naming it and what was expected.
    """
    dtype = check_dtype(dtype)
    path = check_path(path)
    if os.path.isfile(path):
        raw = _read_npz(path)
    elif os.path.isdir(path):
        npz = os.path.join(path, MNIST_NPZ)
        if os.path.isfile(npz):
            raw = _read_npz(npz)
        else:
            files = {key: _find_idx(path, name) for key, name in MNIST_IDX.items()}
            raw = {key: _read_idx(file) for key, file in files.items()}
            raw["_files"] = files
    else:
        raise FileNotFoundError(f"path: no such file or directory {path!r}. {_WHERE}.")
    out = []
    where = raw.get("_files", {})
    train_x, test_x = raw["x_train"], raw["x_test"]
    if train_x.shape[1:] != test_x.shape[1:]:
        files = {where.get("x_train", path), where.get("x_test", path)}
        raise ValueError(
            f"{' and '.join(sorted(files))}: expected train and test images of one "
            f"size, got {train_x.shape[1:]} and {test_x.shape[1:]}"
        )
    for split in ("train", "test"):
        x, y = raw[f"x_{split}"], raw[f"y_{split}"]
        if x.shape[0] == 0 or math.prod(x.shape[1:]) == 0:
            raise ValueError(
                f"{where.get(f'x_{split}', path)}: expected at least one image of at "
                f"least one pixel in x_{split}, got shape {x.shape}"
            )
        if x.ndim < 2 or x.shape[0] != y.shape[0] or y.ndim != 1:
            files = {where.get(f"x_{split}", path), where.get(f"y_{split}", path)}
            raise ValueError(
                f"{' and '.join(sorted(files))}: expected x_{split} of shape (n, h, w) "
                f"and y_{split} of shape (n,) with the same n, got {x.shape} and {y.shape}"
            )
        if y.size and (y.min() < 0 or y.max() > 9):
            raise ValueError(
                f"{where.get(f'y_{split}', path)}: expected labels 0..9, "
                f"got values in [{y.min()}, {y.max()}]"
            )
        check_memory(2 * x.size * dtype.itemsize, f"x_{split} as {dtype.name}", "dtype")
        X = x.reshape(x.shape[0], -1).astype(dtype) / dtype.type(255)
        out += [X, y.astype(np.int64)]
    return tuple(out)


def _read_npz(path: str) -> dict:
    """x_train, y_train, x_test, y_test from Keras' mnist.npz, as uint8 / int arrays.

    Each member's header is checked (rank, dtype) before its data is read, and no more
    than the header declares is decompressed (:class:`refnet.files.NpzReader`)."""
    try:
        raw = _read_npz_members(path)
    except ValueError as err:
        raise ValueError(f"{err}. {_WHERE}.") from None
    raw["_files"] = dict.fromkeys(MNIST_IDX, path)
    return raw


def _read_npz_members(path: str) -> dict:
    with NpzReader(path, "valid MNIST .npz") as npz:
        missing = [k for k in MNIST_IDX if k not in npz.keys]
        if missing:
            raise npz.error(
                f"missing keys {missing}; expected x_train, y_train, x_test, y_test, "
                f"found {sorted(npz.keys)}"
            )
        raw = {}
        for split in ("train", "test"):
            raw[f"x_{split}"] = npz.read(f"x_{split}", (None, None, None), ["uint8"])
            n = raw[f"x_{split}"].shape[0]
            raw[f"y_{split}"] = npz.read(f"y_{split}", (n,), "iu")
    return raw


def _find_idx(directory: str, name: str) -> str:
    for candidate in (name, name + ".gz"):
        full = os.path.join(directory, candidate)
        if os.path.isfile(full):
            return full
    raise FileNotFoundError(
        f"{os.path.join(directory, name)}: not found (nor {name}.gz, nor {MNIST_NPZ}) "
        f"in {directory!r}. {_WHERE}."
    )


_IDX_TYPES = {0x08: np.uint8}


def _read_idx(path: str) -> NDArray:
    """One IDX file: magic 0x0000 <type> <ndim>, ndim big-endian uint32 dims, then data.

    The header is read first; then at most the declared size plus one byte, so a
    compressed file never inflates beyond what its header claims."""
    opener = gzip.open if path.endswith(".gz") else open
    expected_ndim = 3 if "idx3" in os.path.basename(path) else 1
    what = "images (n, rows, cols)" if expected_ndim == 3 else "labels (n,)"
    try:
        with opener(path, "rb") as fh:
            magic = fh.read(4)
            if (
                len(magic) < 4
                or magic[0] != 0
                or magic[1] != 0
                or magic[2] not in _IDX_TYPES
            ):
                raise ValueError(
                    f"{path}: not an IDX file of unsigned bytes (expected magic 0x0000 "
                    f"0x08 0x0{expected_ndim}, got {magic.hex()!r})"
                )
            ndim = magic[3]
            if ndim != expected_ndim:
                raise ValueError(
                    f"{path}: expected IDX {what} with {expected_ndim} dims, got {ndim}"
                )
            dims = fh.read(4 * ndim)
            if len(dims) < 4 * ndim:
                raise ValueError(
                    f"{path}: truncated IDX header ({4 + len(dims)} bytes)"
                )
            shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
            size = math.prod(shape)
            packed = os.path.getsize(path)
            if size > RATIO_FREE_BYTES and size > MAX_RATIO * packed:
                raise ValueError(
                    f"{path}: its header declares shape {shape} ({size} bytes) in a "
                    f"{packed}-byte file, a ratio over {MAX_RATIO} that real images "
                    "do not reach (a zip bomb?)"
                )
            check_memory(size, f"the IDX data of shape {shape}", path)
            blob = fh.read(size + 1)  # one byte more tells trailing garbage
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: cannot read ({err})") from None
    if len(blob) != size:
        raise ValueError(
            f"{path}: IDX header says shape {shape} ({size} bytes of data), "
            f"got {len(blob) if len(blob) < size else 'more'} bytes"
        )
    return np.frombuffer(blob, dtype=np.uint8).reshape(shape)
