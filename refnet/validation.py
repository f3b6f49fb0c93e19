"""Argument checks shared by the public entry points.

Every failure names the argument, what was expected and what was received. The checks
are cheap (one pass over the data at most) so they can stay on the hot path.
"""

from __future__ import annotations

import numbers
import os
import tempfile
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

FLOAT_DTYPES = (np.dtype("float32"), np.dtype("float64"))


def check_dtype(dtype) -> np.dtype:
    """float32 or float64, given as a name or a numpy dtype (None is not a default)."""
    try:
        if dtype is None:
            raise TypeError
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"dtype: expected 'float32' or 'float64', got {dtype!r}"
        ) from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype: expected 'float32' or 'float64', got {dt.name!r}")
    return dt


def check_size(value, name: str) -> int:
    """A positive int (numpy ints accepted, bools not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name}: expected a positive int, got {type(value).__name__} {value!r}"
        )
    if value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value}")
    return int(value)


def check_float(
    value, name: str, minimum: float | None = None, strict: bool = False
) -> float:
    """A finite real number (numpy scalars and 0-d arrays accepted, as Keras accepts
    them; bools not), >= or > ``minimum``."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()  # np.array(0.1): one number
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name}: expected a float, got {type(value).__name__} {value!r}"
        )
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite float, got {value}")
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        raise ValueError(
            f"{name}: expected a float {'>' if strict else '>='} {minimum}, got {value}"
        )
    return value


def rng_from(seed, name: str = "seed") -> np.random.Generator:
    """``np.random.default_rng(seed)`` for an int >= 0, a Generator or None, with an error
    that names the argument (NumPy's own does not)."""
    if isinstance(seed, bool) or not (
        seed is None
        or isinstance(
            seed, (numbers.Integral, np.random.Generator, np.random.SeedSequence)
        )
    ):
        raise TypeError(
            f"{name}: expected an int >= 0, a numpy Generator or None, got "
            f"{type(seed).__name__} {seed!r}"
        )
    if isinstance(seed, numbers.Integral) and seed < 0:
        raise ValueError(f"{name}: expected an int >= 0, got {seed}")
    return np.random.default_rng(seed)


def check_bool(value, name: str) -> bool:
    """value as a bool: True or False (NumPy's bool too), never 1, "yes" or None."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def check_sizes(sizes, name: str = "sizes") -> list[int]:
    """A layout [n_0, n_1, ..., n_L] of at least two positive ints."""
    if isinstance(sizes, str):
        sizes = sizes.split("-")
        try:
            sizes = [int(s) for s in sizes]
        except ValueError:
            raise ValueError(
                f"{name}: expected a layout like '3-5-2', got {'-'.join(sizes)!r}"
            ) from None
    try:
        sizes = list(sizes)
    except TypeError:
        raise TypeError(
            f"{name}: expected a sequence of ints like [3, 5, 2], got {sizes!r}"
        ) from None
    if len(sizes) < 2:
        raise ValueError(
            f"{name}: expected at least two sizes (input and output), got {sizes}"
        )
    return [check_size(s, f"{name}[{i}]") for i, s in enumerate(sizes)]


def as_array(x, name: str) -> np.ndarray:
    """np.asarray(x), with a TypeError naming ``name`` for what NumPy cannot read.

    A torch tensor that requires grad refuses ``.numpy()``, and one of a dtype NumPy
    lacks (bfloat16) has no NumPy counterpart: both are named with the fix (C7). Ragged
    nested lists stay NumPy's ValueError, for the caller to word.
    """
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{name}: a masked array (numpy.ma); refnet would use the values stored "
            f"under the mask as if they were data. Pass {name}.filled(value), or drop "
            f"the masked rows ({name}[~{name}.mask.any(axis=1)])"
        )
    try:
        return np.asarray(x)
    except (RuntimeError, TypeError) as err:
        fix = ""
        if type(x).__module__.startswith("torch"):
            fix = (
                "; pass t.detach().cpu().numpy() (bfloat16: t.detach().float().numpy())"
            )
        raise TypeError(
            f"{name}: expected an array NumPy can read, got a {type(x).__name__} "
            f"that it cannot ({str(err).splitlines()[0]}){fix}"
        ) from None


def check_input(
    X, n_in: int, dtype: np.dtype, name: str = "X", input_shape=None
) -> NDArray:
    """X as an (n, n_in) array of ``dtype`` (a view when it already is one; never mutated).

    Inputs of another numeric dtype are cast to the network's dtype, as Keras casts
    inputs to a layer's dtype. Rejects non-numeric dtypes, wrong rank or width, an
    empty batch and NaN/inf. With ``input_shape`` (a tuple whose product is n_in), X may
    also be given as (n, *input_shape): it is flattened row-major (C order), exactly as
    ``keras.layers.Flatten`` does (FL1).
    """
    try:
        X = as_array(X, name)
    except ValueError as err:  # ragged nested lists
        raise ValueError(
            f"{name}: expected a 2-D array of shape (n, {n_in}), got {err}"
        ) from None
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a real numeric array, got dtype {X.dtype}")
    if input_shape is not None and not (X.ndim == 2 and X.shape[1] == n_in):
        if X.shape[1:] != tuple(input_shape):
            raise ValueError(
                f"{name}: expected shape (n, {', '.join(map(str, input_shape))}) (or "
                f"(n, {n_in}) already flattened), got shape {X.shape}"
            )
        X = X.reshape(X.shape[0], n_in)  # row-major, as keras.layers.Flatten  FL1
    if X.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D array of shape (n, {n_in}), got shape {X.shape}"
        )
    if X.shape[1] != n_in:
        raise ValueError(
            f"{name}: expected {n_in} features per row, got shape {X.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(
            f"{name}: expected at least one row, got an empty batch of shape {X.shape}"
        )
    if X.dtype != dtype:
        # A value beyond float32's range casts to inf (no warning) and is caught below.
        with np.errstate(over="ignore"):
            X = X.astype(dtype)
    if not np.isfinite(X).all():
        raise ValueError(
            f"{name}: expected finite values, got NaN, inf or a value beyond "
            f"{dtype.name}'s range"
        )
    return X


def check_rows(Y, n: int, name: str = "Y") -> None:
    """Y has the same number of rows as X."""
    try:
        shape = as_array(Y, name).shape
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{name}: expected {n} rows to match X, got {err}") from None
    if len(shape) == 0 or shape[0] != n:
        raise ValueError(f"{name}: expected {n} rows to match X, got shape {shape}")


def check_output_folder(
    path: str | None, name: str, inputs=(), overwrite: bool = True
) -> None:
    """A file can be written at ``path``: checked before a long run, not after it.

    The folder exists and is writable (a temporary file is created and removed there,
    which also catches read-only and immutable folders), ``path`` is not a directory or a
    device (/dev/full), not one of the ``inputs`` (``{flag: path}`` or paths), and, with
    ``overwrite=False``, does not exist yet. ``name`` is the flag or argument blamed.
    """
    if path is None:
        return
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{name}: expected a file path, got an empty one")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{name}: expected an existing folder, got {folder!r}")
    if os.path.isdir(path):
        raise ValueError(f"{name}: expected a file path, got the folder {path!r}")
    longest = _name_max(folder)
    n_bytes = len(os.fsencode(os.path.basename(path)))
    if n_bytes > longest:
        raise ValueError(
            f"{name}: the file name is {n_bytes} bytes long; the folder's file system "
            f"takes at most {longest} (choose a shorter name)"
        )
    if os.path.exists(path) and not os.path.isfile(path):
        raise ValueError(f"{name}: expected a regular file path, got {path!r}")
    if os.path.isfile(path) and not overwrite:
        way_out = "choose another path or remove it first"
        if name.startswith("--"):  # a command-line flag: every CLI here has --force
            way_out = "choose another path, remove it, or pass --force to overwrite it"
        raise ValueError(
            f"{name}: {path!r} exists; refusing to overwrite it ({way_out})"
        )
    items = inputs.items() if isinstance(inputs, dict) else ((None, p) for p in inputs)
    for flag, other in items:
        if other is not None and os.path.exists(other) and os.path.exists(path):
            if os.path.samefile(path, other):
                raise ValueError(
                    f"{name}: {path!r} is the input{' ' + flag if flag else ''}; "
                    "writing there would destroy it"
                )
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ValueError(
            f"{name}: cannot write in the folder {folder!r} ({err.strerror or err})"
        ) from None


def _name_max(folder: str) -> int:
    """The longest file name (bytes) the folder's file system takes; 255 where unknown."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        return 255


def check_l2(l2) -> float:
    """l2 as a finite float >= 0 (the L2 factor of LS6); TypeError/ValueError naming it."""
    if isinstance(l2, bool) or not isinstance(
        l2, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"l2: expected a number >= 0, got {type(l2).__name__}")
    l2 = float(l2)
    if not (np.isfinite(l2) and l2 >= 0):
        raise ValueError(f"l2: expected a finite number >= 0, got {l2!r}")
    if l2 > MAX_L2:
        raise ValueError(
            f"l2: expected at most {MAX_L2:g} (a decay this strong only overflows "
            f"l2 * sum(W^2); useful values are below 1), got {l2!r}"
        )
    return l2


# The largest L2 factor accepted: 2 l2 W stays far from float32's overflow for any
# initialised W, and no useful decay comes near it.
MAX_L2 = 1e6


def check_input_shape(input_shape, n_in: int) -> tuple[int, ...] | None:
    """input_shape as a tuple of positive ints whose product is n_in; None for None or a
    1-tuple (n_in,), which needs no flatten."""
    if input_shape is None:
        return None
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Iterable):
        raise TypeError(
            f"input_shape: expected a tuple of ints such as (28, 28), got {input_shape!r}"
        )
    shape = tuple(input_shape)
    if not shape or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
        for s in shape
    ):
        raise ValueError(
            f"input_shape: expected a tuple of positive ints such as (28, 28), got {input_shape!r}"
        )
    shape = tuple(int(s) for s in shape)
    if int(np.prod(shape, dtype=object)) != n_in:
        raise ValueError(
            f"input_shape: expected a shape of {n_in} entries (the first layer's n_in), "
            f"got {shape} ({int(np.prod(shape, dtype=object))} entries)"
        )
    return None if len(shape) == 1 else shape


def check_per_layer_bools(value, n_layers: int, name: str) -> list[bool]:
    """One bool for every layer, or a sequence of one bool per layer, as a list."""
    if isinstance(value, (bool, np.bool_)):
        return [bool(value)] * n_layers
    try:
        values = list(value)
    except TypeError:
        raise TypeError(
            f"{name}: expected True/False or one bool per layer, got {value!r}"
        ) from None
    if len(values) != n_layers or not all(
        isinstance(v, (bool, np.bool_)) for v in values
    ):
        raise ValueError(
            f"{name}: expected True/False or {n_layers} bools (one per layer), got {value!r}"
        )
    return [bool(v) for v in values]
