"""refnet.datasets: digits (scikit-learn's bundled copy) and MNIST from local files.

The MNIST tests write small files in the two published formats themselves (Keras'
mnist.npz, and the IDX format: magic 0x00000803 / 0x00000801, big-endian uint32 sizes,
then unsigned bytes), so the expected arrays are known independently of the reader.
"""

from __future__ import annotations

import gzip
import struct
import sys

import numpy as np
import pytest

from refnet import datasets

# --- digits -------------------------------------------------------------------------------


def test_digits_shapes_scaling_and_labels():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    X_train, y_train, X_test, y_test = datasets.digits()
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert y_train.shape == (1347,) and y_test.shape == (450,)
    assert X_train.dtype == np.float64 and y_train.dtype == np.int64
    X = np.vstack([X_train, X_test])
    assert X.min() == 0.0 and X.max() == 1.0
    assert (X * 16 == np.round(X * 16)).all()  # pixel / 16, exactly
    assert set(np.unique(np.r_[y_train, y_test])) == set(range(10))
    # the split is a permutation of scikit-learn's rows: same rows, labels attached
    ref = sklearn_datasets.load_digits()
    ours = sorted(map(tuple, np.c_[X * 16, np.r_[y_train, y_test]].tolist()))
    theirs = sorted(map(tuple, np.c_[ref.data, ref.target].tolist()))
    assert ours == theirs


def test_digits_split_is_reproducible():
    pytest.importorskip("sklearn")
    a, b, c = datasets.digits(seed=0), datasets.digits(seed=0), datasets.digits(seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    X_train, _, X_test, _ = datasets.digits(test_size=0.1, dtype="float32")
    assert X_test.shape == (180, 64) and X_train.shape == (1617, 64)
    assert X_train.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"test_size": 0}, ValueError),
        ({"test_size": 1.5}, ValueError),
        ({"test_size": "a"}, TypeError),
        ({"dtype": "int32"}, TypeError),
    ],
)
def test_digits_bad_arguments(kwargs, exc):
    pytest.importorskip("sklearn")
    with pytest.raises(exc, match=next(iter(kwargs))):
        datasets.digits(**kwargs)


def test_digits_without_scikit_learn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        datasets.digits()


# --- MNIST --------------------------------------------------------------------------------


def _fake_mnist(rng, n_train=5, n_test=3, h=28, w=28):
    return {
        "x_train": rng.integers(0, 256, size=(n_train, h, w), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, h, w), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=n_test).astype(np.uint8),
    }


IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _idx_bytes(a: np.ndarray) -> bytes:
    """The IDX format written by hand: 0, 0, type 0x08 (ubyte), ndim, sizes, data."""
    return (
        bytes([0, 0, 0x08, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()
    )


def _write_idx(directory, raw, gz=False):
    for key, name in IDX_NAMES.items():
        data = _idx_bytes(raw[key])
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)


def _check(out, raw):
    X_train, y_train, X_test, y_test = out
    assert X_train.shape == (5, 784) and X_test.shape == (3, 784)
    np.testing.assert_array_equal(X_train * 255, raw["x_train"].reshape(5, 784))
    np.testing.assert_array_equal(X_test[1], raw["x_test"][1].ravel() / 255)
    np.testing.assert_array_equal(y_train, raw["y_train"])
    assert y_test.dtype == np.int64 and X_train.dtype == np.float64
    assert 0 <= X_train.min() and X_train.max() <= 1


def test_load_mnist_npz_file_and_directory(tmp_path, rng):
    raw = _fake_mnist(rng)
    np.savez(tmp_path / "mnist.npz", **raw)
    _check(datasets.load_mnist(tmp_path / "mnist.npz"), raw)
    _check(datasets.load_mnist(tmp_path), raw)
    X32 = datasets.load_mnist(tmp_path, dtype="float32")[0]
    assert X32.dtype == np.float32


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_idx_files(tmp_path, rng, gz):
    raw = _fake_mnist(rng)
    _write_idx(tmp_path, raw, gz=gz)
    _check(datasets.load_mnist(tmp_path), raw)


def test_load_mnist_missing_files_say_where_to_put_them(tmp_path, rng):
    with pytest.raises(FileNotFoundError, match="no such file or directory.*mnist.npz"):
        datasets.load_mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte: not found"):
        datasets.load_mnist(tmp_path)  # an empty directory
    raw = _fake_mnist(rng)
    _write_idx(tmp_path, raw)
    (tmp_path / IDX_NAMES["y_test"]).unlink()
    with pytest.raises(
        FileNotFoundError, match=r"t10k-labels-idx1-ubyte: not found.*Put"
    ):
        datasets.load_mnist(tmp_path)


def test_load_mnist_malformed_idx_names_the_file(tmp_path, rng):
    raw = _fake_mnist(rng)
    _write_idx(tmp_path, raw)
    images = tmp_path / IDX_NAMES["x_train"]
    good = images.read_bytes()
    images.write_bytes(b"\x00\x00\x0d\x03" + good[4:])  # float type: not ubyte
    with pytest.raises(ValueError, match="train-images-idx3-ubyte: not an IDX file"):
        datasets.load_mnist(tmp_path)
    images.write_bytes(good[:-10])  # truncated data
    with pytest.raises(
        ValueError,
        match=r"train-images-idx3-ubyte: IDX header says shape \(5, 28, 28\)",
    ):
        datasets.load_mnist(tmp_path)
    images.write_bytes(_idx_bytes(raw["x_train"][:, :, 0]))  # 2-D images
    with pytest.raises(ValueError, match="expected IDX images .* 3 dims, got 2"):
        datasets.load_mnist(tmp_path)
    images.write_bytes(_idx_bytes(raw["x_train"][:4]))  # 4 images, 5 labels
    with pytest.raises(ValueError, match="same n"):
        datasets.load_mnist(tmp_path)
    images.write_bytes(good)
    (tmp_path / IDX_NAMES["y_test"]).write_bytes(
        _idx_bytes(np.array([1, 2, 11], np.uint8))
    )
    with pytest.raises(
        ValueError, match="t10k-labels-idx1-ubyte: expected labels 0..9"
    ):
        datasets.load_mnist(tmp_path)
    (tmp_path / (IDX_NAMES["x_test"])).unlink()
    (tmp_path / (IDX_NAMES["x_test"] + ".gz")).write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz: cannot read"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_malformed_npz_names_the_file(tmp_path, rng):
    raw = _fake_mnist(rng)
    path = tmp_path / "mnist.npz"
    np.savez(path, **{k: v for k, v in raw.items() if k != "y_test"})
    with pytest.raises(
        ValueError,
        match=r"mnist.npz: not a valid MNIST .npz \(missing keys \['y_test'\]",
    ):
        datasets.load_mnist(path)
    np.savez(path, **(raw | {"x_train": raw["x_train"].astype(np.float32)}))
    with pytest.raises(
        ValueError,
        match=r"mnist.npz: not a valid MNIST .npz \(x_train: expected dtype uint8, got float32",
    ):
        datasets.load_mnist(path)
    path.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="mnist.npz: not a valid MNIST"):
        datasets.load_mnist(path)


def test_digits_split_arguments():
    pytest.importorskip("sklearn")
    a = datasets.digits(test_size=np.float32(0.25))
    b = datasets.digits(test_size=0.25)
    np.testing.assert_array_equal(a[3], b[3])
    with pytest.raises(ValueError, match="test_size: 0.9999 leaves no training rows"):
        datasets.digits(test_size=0.9999)


def test_load_mnist_refuses_train_and_test_images_of_different_sizes(tmp_path):
    rng = np.random.default_rng(0)
    raw = {
        "x_train": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "y_train": np.arange(4),
        "x_test": rng.integers(0, 256, (2, 20, 20), dtype=np.uint8),
        "y_test": np.arange(2),
    }
    np.savez(tmp_path / "mnist.npz", **raw)
    with pytest.raises(
        ValueError, match=r"images of one size, got \(28, 28\) and \(20, 20\)"
    ):
        datasets.load_mnist(tmp_path / "mnist.npz")
    np.savez(
        tmp_path / "mnist.npz",
        **(
            raw
            | {"x_test": np.zeros((0, 28, 28), np.uint8), "y_test": np.zeros(0, int)}
        ),
    )
    with pytest.raises(
        ValueError, match=r"at least one image .* x_test, got shape \(0, 28, 28\)"
    ):
        datasets.load_mnist(tmp_path / "mnist.npz")
