"""The ``.npz`` file of ``Network.save`` / ``Network.load``: writing it, and reading it
back from an untrusted source.

A file of format 1 is a plain NumPy ``.npz`` (no pickled objects) holding

    refnet_format   ()            int, FORMAT_VERSION
    sizes           (L + 1,)      int64, the layout [n_0, n_1, ..., n_L]
    activations     (L,)          str, one name per layer
    dtype           ()            str, "float32" or "float64"
    W1, b1, W2, ...               the weights in the net's dtype, Keras' order (no b for
                                  a layer without bias)

and, only where they differ from the default (so an ordinary net's file is as before),
the ``OPTIONAL_KEYS``: ``use_bias`` (bool per layer; absent: every layer has a bias),
``input_shape`` (ints; absent: X is (n, n_0)) and ``dropout`` (float64 rate per layer;
absent: no layer has dropout). A file without them is read as before; a new key keeps
the format at 1, since an older refnet refuses a file with a key it does not know
rather than misreading it.

This module holds the format alone, as Keras' ``saving`` package does for ``Model.save``;
``Network.save`` and ``Network.load`` are one-line delegates. It never imports
``refnet.network``: the class to build is passed in (``load(cls, path)``).
"""

from __future__ import annotations

import os

import numpy as np

from .files import NpzReader, atomic_write, check_memory, check_path
from .params import count_params

FORMAT_VERSION = 1  # of the .npz written by Network.save
HEADER_KEYS = ("refnet_format", "sizes", "activations", "dtype")
# Keys a version-1 file may hold beyond the header and the weights, written only when
# they differ from the default (so a file of an ordinary net is as before):
# use_bias (bool per layer; absent: every layer has a bias), input_shape (ints; absent:
# X is (n, n_0)), dropout (float64 per layer; absent: no dropout).
OPTIONAL_KEYS = ("use_bias", "input_shape", "dropout")
_SMALL = 1 << 16  # the header members are a few bytes; anything more is hostile


def save(net, path) -> None:
    """Write ``net`` (a ``Network``) to one ``.npz`` file at ``path``, atomically.

    ``path`` (a str or path-like) is used as given (no suffix is added). A temporary
    file in the same folder is renamed over ``path`` once complete, so a failed save
    leaves an existing file as it was. Weights holding NaN or inf are refused (``load``
    would reject them).
    """
    path = check_path(path)
    arrays = {
        "refnet_format": np.array(FORMAT_VERSION),
        "sizes": np.array(net.sizes, dtype=np.int64),
        "activations": np.array(net.activations, dtype=str),
        "dtype": np.array(net.dtype.name),
    }
    if net.input_shape is not None:
        arrays["input_shape"] = np.array(net.input_shape, dtype=np.int64)
    if not all(layer.use_bias for layer in net.layers):
        arrays["use_bias"] = np.array([layer.use_bias for layer in net.layers])
    if any(layer.dropout for layer in net.layers):
        arrays["dropout"] = np.array(
            [layer.dropout for layer in net.layers], np.float64
        )
    for l, layer in enumerate(net.layers, start=1):
        params = [("W", layer.W)] + ([("b", layer.b)] if layer.b is not None else [])
        if not all(np.isfinite(p).all() for _, p in params):
            raise ValueError(
                f"self: layer {l}'s weights hold NaN or inf; refusing to save a "
                "model that Network.load would reject"
            )
        for p, value in params:
            arrays[f"{p}{l}"] = value
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def load(cls, path):
    """The network of class ``cls`` (``Network`` or a subclass) saved at ``path``.

    FileNotFoundError when ``path`` does not exist; ValueError naming the file when it is
    not a refnet ``.npz`` or its contents disagree with each other (``from_npz``).
    """
    path = check_path(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"path: no such file {path!r} (expected a .npz written by Network.save)"
        )
    with NpzReader(path, "refnet .npz written by Network.save") as npz:
        return from_npz(cls, npz)


def from_npz(cls, npz: NpzReader):
    """Build a ``cls`` from an open file, checking before reading: the keys, then every
    ``.npy`` header (shape, dtype) against the layout the file declares, so memory stays
    bounded by the weights the file claims (and those must fit in free memory)."""
    sizes, names, dtype = _read_header(npz)
    n_layers = len(sizes) - 1
    optional = [k for k in OPTIONAL_KEYS if k in npz.keys]
    use_bias, input_shape, dropout = _read_options(npz, n_layers)
    expected = _weight_shapes(sizes, use_bias)
    unexpected = npz.keys - set(HEADER_KEYS) - set(optional) - set(expected)
    if unexpected:
        raise npz.error(f"unexpected keys {sorted(unexpected)[:10]} for layout {sizes}")
    # three copies live at once: the file's arrays, the net's, set_weights' copies
    check_memory(
        3 * count_params(sizes) * dtype.itemsize,
        f"the layout {sizes} in {dtype.name}",
        repr(npz.path),
    )
    weights = _read_weights(npz, expected, sizes, dtype)
    try:
        net = cls.build(
            sizes,
            [str(a) for a in names],
            init="zeros",
            dtype=dtype,
            use_bias=use_bias,
            input_shape=input_shape,
            dropout=dropout,
        )
    except (TypeError, ValueError) as err:
        raise npz.error(str(err)) from None
    try:
        net.set_weights(weights)
    except (TypeError, ValueError) as err:
        raise npz.error(str(err)) from None
    return net


def _read_header(npz: NpzReader) -> tuple[list[int], np.ndarray, np.dtype]:
    """The header members, checked in order: format version, sizes, activations, dtype."""
    missing = [k for k in HEADER_KEYS if k not in npz.keys]
    if missing:
        raise npz.error(f"missing {missing}; found keys {sorted(npz.keys)}")
    version = npz.read("refnet_format", shape=(), dtypes="iu", max_bytes=_SMALL)
    if int(version) != FORMAT_VERSION:
        raise npz.error(f"expected refnet_format {FORMAT_VERSION}, got {version!r}")
    sizes = npz.read("sizes", shape=(None,), dtypes="iu", max_bytes=_SMALL)
    if sizes.size < 2 or (sizes < 1).any():
        raise npz.error(
            f"expected sizes [n_0, ..., n_L] of positive ints, got {sizes!r}"
        )
    sizes = [int(s) for s in sizes]
    n_layers = len(sizes) - 1
    if npz.header("activations")[0] != (n_layers,):
        raise npz.error(
            f"expected {n_layers} activation names, got shape "
            f"{npz.header('activations')[0]}"
        )
    names = npz.read("activations", dtypes="U", max_bytes=_SMALL)
    dtype_name = npz.read("dtype", shape=(), dtypes="U", max_bytes=_SMALL)
    if str(dtype_name) not in ("float32", "float64"):
        raise npz.error(f"expected dtype 'float32' or 'float64', got {dtype_name!r}")
    return sizes, names, np.dtype(str(dtype_name))


def _read_options(
    npz: NpzReader, n_layers: int
) -> tuple[list[bool], tuple | None, list]:
    """use_bias (every layer has a bias when the key is absent), input_shape (None) and
    the dropout rates (0 for every layer)."""
    use_bias = [True] * n_layers
    if "use_bias" in npz.keys:
        use_bias = npz.read("use_bias", shape=(n_layers,), dtypes="b", max_bytes=_SMALL)
        use_bias = [bool(u) for u in use_bias]
    input_shape = None
    if "input_shape" in npz.keys:
        input_shape = npz.read(
            "input_shape", shape=(None,), dtypes="iu", max_bytes=_SMALL
        )
        input_shape = tuple(int(s) for s in input_shape)
    dropout = [0.0] * n_layers
    if "dropout" in npz.keys:
        rates = npz.read("dropout", shape=(n_layers,), dtypes="f", max_bytes=_SMALL)
        dropout = [float(r) for r in rates]  # checked by build: [0, 1), 0 on the output
    return use_bias, input_shape, dropout


def _weight_shapes(sizes: list[int], use_bias: list[bool]) -> dict[str, tuple]:
    """{"W1": (n_0, n_1), "b1": (n_1,), ...}: the members the layout calls for."""
    return {
        f"{p}{l}": shape
        for l, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1)
        for p, shape in (("W", (n_in, n_out)), ("b", (n_out,)))
        if p == "W" or use_bias[l - 1]
    }


def _read_weights(npz: NpzReader, expected: dict, sizes: list[int], dtype) -> list:
    """Each weight member, its header checked against the layout before it is read."""
    weights = []
    for key, shape in expected.items():
        if key not in npz.keys:
            raise npz.error(f"missing {key} for layout {sizes}")
        got_shape, got_dtype = npz.header(key)
        if got_shape != shape or got_dtype.newbyteorder("=") != dtype:
            raise npz.error(
                f"{key}: expected shape {shape} and dtype {dtype.name}, "
                f"got {got_shape} and {got_dtype}"
            )
        weights.append(npz.read(key, shape=shape, dtypes=[dtype.name]))
    return weights
