"""What a student's child hands back to the grader: a tree of numbers and arrays, as
JSON plus an ``.npz``, never a pickle.

``encode(tree, max_bytes)`` splits a tree into a JSON skeleton and the arrays it points
to; ``decode(skeleton, arrays)`` puts it back together. The tree may hold

    dict (str keys), list, tuple      kept as they are: CS231n's (loss, grads) stays a tuple
    None, bool, int, str
    float                             nan, inf and -inf kept
    np.ndarray                        numeric or bool dtype (an object array is refused)
    a numpy scalar                    kept as a 0-d array of its dtype: float32 stays float32

Anything else is refused with its type and where it sits ("returned[1]['W1'] is a
torch.Tensor"), as is a tree nested deeper than :data:`MAX_DEPTH` or arrays holding
more than ``max_bytes`` bytes in all.

:func:`write` saves a tree atomically as STEM.npz then STEM.json (the JSON last, so a
STEM.json on disk means both are complete); :func:`read` loads it back with
``allow_pickle=False`` after checking every size from the file sizes and the npz
members' headers, and reports a bad or oversize file as a sentence, never by raising:
the files come from a student's process and may have been written by anything.

Skeleton nodes: JSON null, true, false, ints, finite floats and strings stand for
themselves; ``{"float": "nan"}``, ``{"list": [...]}``, ``{"tuple": [...]}``,
``{"dict": {...}}`` and ``{"array": "a0"}`` (a key of the arrays) for the rest.
"""

from __future__ import annotations

import json
import math
import os
import zipfile

import numpy as np

__all__ = ["MAX_DEPTH", "TransportError", "decode", "encode", "read", "write"]

MAX_DEPTH = 32
_KINDS = "biufc"  # bool, signed and unsigned ints, floats, complex
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_MAX_MEMBERS = 10_000


class TransportError(ValueError):
    """A tree that cannot be sent, or files that cannot be read back."""


def encode(tree, max_bytes: int, name: str = "returned") -> tuple[dict, dict]:
    """(skeleton, arrays): JSON data and {key: ndarray} that :func:`decode` turns back
    into ``tree``.

    Parameters
    ----------
    tree : the value to send (see the module docstring for what it may hold)
    max_bytes : int
        The most array bytes in all.
    name : str
        What to call the tree's root in an error ("returned[1]['W1'] is a ...").

    Raises
    ------
    TransportError
        Naming the first part of ``tree`` that cannot be sent, and why.
    """
    _check_bound(max_bytes)
    arrays: dict[str, np.ndarray] = {}
    node = _encode(tree, name, 0, arrays)
    total = sum(a.nbytes for a in arrays.values())
    if total > max_bytes:
        raise TransportError(
            f"{name} holds {total} bytes of arrays, more than the {max_bytes} allowed"
        )
    return {"transport": 1, "tree": node}, arrays


def decode(skeleton, arrays):
    """The tree :func:`encode` split into ``skeleton`` and ``arrays`` ({key: ndarray}).

    Raises
    ------
    TransportError
        When the skeleton is malformed or points to a missing or refused array.
    """
    if not (isinstance(skeleton, dict) and skeleton.get("transport") == 1):
        raise TransportError(
            'skeleton: expected {"transport": 1, "tree": ...}, got '
            f"{_short(skeleton)}"
        )
    if set(skeleton) != {"transport", "tree"}:
        raise TransportError(f"skeleton: unexpected keys {sorted(skeleton)}")
    return _decode(skeleton["tree"], "tree", 0, arrays)


def write(path_stem, tree, max_bytes: int, name: str = "returned") -> None:
    """Save ``tree`` as ``path_stem``.npz and ``path_stem``.json, each written to a
    temporary name and moved into place, the JSON last.

    Raises
    ------
    TransportError
        As :func:`encode`, or when the JSON would exceed ``max_bytes``.
    """
    skeleton, arrays = encode(tree, max_bytes, name)
    text = json.dumps(skeleton, allow_nan=False)
    if len(text) > max_bytes:
        raise TransportError(
            f"{name} takes {len(text)} bytes as JSON, more than the {max_bytes} allowed"
        )
    stem = os.fspath(path_stem)
    tmp = f"{stem}.npz.tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, f"{stem}.npz")
    tmp = f"{stem}.json.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, f"{stem}.json")


def read(path_stem, max_bytes: int) -> tuple[object, str | None]:
    """(tree, None) from ``path_stem``.json and .npz, or (None, the reason in words)
    when they are missing, malformed or larger than ``max_bytes`` (each file, and the
    arrays the npz headers declare, checked before anything is loaded)."""
    _check_bound(max_bytes)
    stem = os.fspath(path_stem)
    try:
        return _read(stem, max_bytes), None
    except TransportError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 (any damage to the files is a sentence)
        return (
            None,
            f"{os.path.basename(stem)}: unreadable ({type(exc).__name__}: {exc})",
        )


# ---------------------------------------------------------------------------------


def _check_bound(max_bytes) -> None:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"max_bytes: expected an int >= 0, got {max_bytes!r}")


def _type_name(x) -> str:
    t = type(x)
    return (
        t.__qualname__
        if t.__module__ == "builtins"
        else f"{t.__module__}.{t.__qualname__}"
    )


def _short(x) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _encode(x, path: str, depth: int, arrays: dict):
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int) and not isinstance(x, np.generic):
        return int(x)
    if isinstance(x, float) and not isinstance(x, np.generic):
        x = float(x)
        return x if math.isfinite(x) else {"float": repr(x)}
    if isinstance(x, (np.ndarray, np.generic)):
        a = np.asarray(x)
        if a.dtype.kind not in _KINDS:
            raise TransportError(
                f"{path} is an array of dtype {a.dtype}; expected numbers or bools "
                "(an object array cannot be sent)"
            )
        key = f"a{len(arrays)}"
        arrays[key] = np.array(a, copy=True)  # its own, C-ordered base array
        return {"array": key}
    if isinstance(x, (dict, list, tuple)):
        if depth >= MAX_DEPTH:
            raise TransportError(
                f"{path} is nested more than {MAX_DEPTH} deep (a list that holds itself?)"
            )
        if isinstance(x, dict):
            out = {}
            for k, v in x.items():
                if not isinstance(k, str):
                    raise TransportError(
                        f"{path} has the key {_short(k)} of type {_type_name(k)}; "
                        "expected str keys"
                    )
                out[k] = _encode(v, f"{path}[{k!r}]", depth + 1, arrays)
            return {"dict": out}
        tag = "tuple" if isinstance(x, tuple) else "list"
        return {
            tag: [
                _encode(v, f"{path}[{i}]", depth + 1, arrays) for i, v in enumerate(x)
            ]
        }
    raise TransportError(
        f"{path} is a {_type_name(x)}; expected numpy arrays, numbers, bools, str, "
        "None, or lists, tuples and dicts of them"
    )


def _decode(node, path: str, depth: int, arrays):
    if node is None or isinstance(node, (bool, int, str)):
        return node
    if isinstance(node, float):
        if not math.isfinite(node):  # json.loads reads NaN; encode never writes it
            raise TransportError(f"{path}: a bare non-finite float {node!r}")
        return node
    if not (isinstance(node, dict) and len(node) == 1):
        raise TransportError(f"{path}: not a skeleton node: {_short(node)}")
    ((tag, value),) = node.items()
    if tag == "float" and value in _NONFINITE:
        return _NONFINITE[value]
    if tag == "array" and isinstance(value, str):
        if value not in arrays:
            raise TransportError(f"{path}: the array {value!r} is missing")
        a = arrays[value]
        if not isinstance(a, np.ndarray) or a.dtype.kind not in _KINDS:
            raise TransportError(
                f"{path}: the array {value!r} is a {getattr(a, 'dtype', type(a))}; "
                "expected numbers or bools"
            )
        return a
    if tag in ("list", "tuple", "dict"):
        if depth >= MAX_DEPTH:
            raise TransportError(f"{path}: nested more than {MAX_DEPTH} deep")
        if tag == "dict" and isinstance(value, dict):
            return {
                k: _decode(v, f"{path}[{k!r}]", depth + 1, arrays)
                for k, v in value.items()
            }
        if tag != "dict" and isinstance(value, list):
            items = [
                _decode(v, f"{path}[{i}]", depth + 1, arrays)
                for i, v in enumerate(value)
            ]
            return tuple(items) if tag == "tuple" else items
    raise TransportError(f"{path}: not a skeleton node: {_short(node)}")


def _read(stem: str, max_bytes: int):
    base = os.path.basename(stem)
    sizes = {}
    for ext in (".json", ".npz"):
        try:
            sizes[ext] = os.path.getsize(stem + ext)
        except OSError:
            raise TransportError(f"{base}{ext} is missing") from None
        # the npz adds a few hundred bytes of zip and npy headers per array
        slack = 65536 if ext == ".json" else 65536 + 1024 * _MAX_MEMBERS
        if sizes[ext] > max_bytes + slack:
            raise TransportError(
                f"{base}{ext} is {sizes[ext]} bytes, more than the {max_bytes} allowed"
            )
    with open(stem + ".json", encoding="utf-8") as fh:
        skeleton = json.load(fh)
    declared = _npz_headers(stem + ".npz", base)
    total = sum(declared.values())
    if total > max_bytes:
        raise TransportError(
            f"{base}.npz declares {total} bytes of arrays, more than the {max_bytes} allowed"
        )
    with np.load(stem + ".npz", allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in declared}
    return decode(skeleton, arrays)


def _npz_headers(path: str, base: str) -> dict[str, int]:
    """{key: bytes} for each member of the npz, from its header alone; a member that is
    not a numeric or bool array is refused before any data is read."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        if len(names) > _MAX_MEMBERS:
            raise TransportError(f"{base}.npz holds {len(names)} members")
        for member in names:
            if not member.endswith(".npy"):
                raise TransportError(f"{base}.npz holds {member!r}, not an array")
            key = member[: -len(".npy")]
            with zf.open(member) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                else:
                    raise TransportError(
                        f"{base}.npz: {key!r} has npy format {version}; expected 1.0 or 2.0"
                    )
            if dtype.hasobject or dtype.kind not in _KINDS:
                raise TransportError(
                    f"{base}.npz: {key!r} is an array of dtype {dtype}; expected numbers "
                    "or bools (an object array is never loaded)"
                )
            out[key] = math.prod(shape) * dtype.itemsize
    return out
