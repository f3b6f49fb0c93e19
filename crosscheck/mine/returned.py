"""What the user's function returned: read, shape-checked, converted to refnet's layout.

``fn(weights, X, Y)`` may return:

- a list [dW1, db1, ...] (no db without bias), in the order of the weights;
- a dict of gradients keyed ``W1``/``b1``... or ``dW1``/``db1``... (deeplearning.ai's
  ``grads``, CS231n's), which may also hold the intermediate quantities students name:
  ``dZ1, dZ2, ...`` (dL/dz, the deltas) and ``dA0, dA1, ...`` (dL/da; dA0 is dL/dX);
- a dict with ``"grads"`` (either form above) and optionally ``"loss"``, ``"deltas"``
  (one dL/dz per layer, first layer first), ``"output"`` (a[L]), ``"dX"``;
- CS231n's ``(loss, grads)`` pair, or the same pair the other way round (read, with a
  note).

Keys it cannot place are named in a note and ignored. Anything else is a
:class:`BadOutput` whose message says what was expected. A wrong shape is not an
exception: :func:`to_rows` returns the message naming the shape expected in the user's
convention (and what the shape it got suggests: a transpose, db not summed), and the
check reports it as that row's failure.
"""

from __future__ import annotations

import re

import numpy as np

from ..messages import msg

EXTRAS = ("loss", "deltas", "output", "dX")
_INTERMEDIATE = re.compile(r"^d([AZ])(\d+)$")


class BadOutput(ValueError):
    """What ``fn`` returned cannot be read as gradients (the message says why)."""


def grads_list(grads, names: list[str]) -> list:
    """[dW1, db1, ...] in the order of ``names`` (the weights' names, W1, b1, ...) from a
    list, or from a dict keyed W1/b1... or dW1/db1..."""
    if isinstance(grads, dict):
        for prefix in ("", "d"):
            if all(prefix + name in grads for name in names):
                return [grads[prefix + name] for name in names]
        want = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        got = sorted(map(str, grads))
        raise BadOutput(msg("returned.grads_keys", want=want, first=names[0], got=got))
    if not isinstance(grads, (list, tuple)) or len(grads) != len(names):
        got = (
            msg("returned.items", n=len(grads))
            if isinstance(grads, (list, tuple))
            else type(grads).__name__
        )
        listed = ", ".join("d" + n for n in names[:4])
        listed += ", ..." if len(names) > 4 else ""
        raise BadOutput(msg("returned.count", n=len(names), names=listed, got=got))
    return list(grads)


def _pair(out) -> dict | None:
    """CS231n's (loss, grads), or (grads, loss) with a note; None for anything else."""
    if not (isinstance(out, tuple) and len(out) == 2):
        return None
    first, second = (_is_scalar(x) for x in out)
    if first and isinstance(out[1], (dict, list, tuple)):
        return {"loss": out[0], "grads": out[1]}
    if second and isinstance(out[0], (dict, list, tuple)):
        note = msg("returned.pair_reversed")
        return {"loss": out[1], "grads": out[0], "_notes": [note]}
    return None


def _is_scalar(x) -> bool:
    if isinstance(x, np.ndarray):
        return x.ndim == 0
    return isinstance(x, (int, float, np.number)) and not isinstance(x, bool)


def read(out, names: list[str]) -> dict:
    """{"grads": [...], "loss"?, "deltas"?, "output"?, "dX"?, "dA": {l: ..}, "dZ": {l:
    ..}, "_notes": [...]} from fn's return value; ``names`` are the weights' names."""
    L = int(names[-1][1:])
    pair = _pair(out)
    notes = []
    if pair is not None:
        notes = pair.pop("_notes", [])
        out = pair
    if isinstance(out, dict) and "grads" in out:
        got = {k: v for k, v in out.items() if k in EXTRAS}
        rest = {k: v for k, v in out.items() if k not in EXTRAS and k != "grads"}
        grads = out["grads"]
        if isinstance(grads, dict):
            rest = {**grads, **rest}
    elif isinstance(out, dict):
        # one flat dict: gradients, intermediates, and maybe loss, output, deltas, dX
        got = {k: v for k, v in out.items() if k in EXTRAS}
        rest = {k: v for k, v in out.items() if k not in EXTRAS}
        grads = rest
    elif isinstance(out, (list, tuple)):
        got, rest, grads = {}, {}, out
    else:
        raise BadOutput(msg("returned.not_gradients", type=type(out).__name__))
    got["grads"] = grads_list(grads, names)
    got["dA"], got["dZ"], ignored = _intermediates(rest, names, L)
    if "deltas" in got:
        deltas = got.pop("deltas")
        if not isinstance(deltas, (list, tuple)) or len(deltas) != L:
            raise BadOutput(msg("returned.deltas", L=L))
        got["dZ"].update({l: d for l, d in enumerate(deltas, start=1)})
    if ignored:
        notes.append(msg("returned.ignored", keys=", ".join(map(repr, ignored))))
    got["_notes"] = notes
    return got


def _intermediates(rest: dict, names: list[str], L: int):
    """dA{l} (l = 0..L) and dZ{l} (l = 1..L) from the keys left over; the rest ignored."""
    grads_keys = {prefix + n for n in names for prefix in ("", "d")}
    dA, dZ, ignored = {}, {}, []
    for key, value in rest.items():
        if key in grads_keys:
            continue
        m = _INTERMEDIATE.match(str(key))
        l = int(m[2]) if m else -1
        if m and m[1] == "A" and 0 <= l <= L:
            dA[l] = value
        elif m and m[1] == "Z" and 1 <= l <= L:
            dZ[l] = value
        else:
            ignored.append(key)
    return dA, dZ, ignored


def to_rows(got, name: str, conv, expected: tuple, ref_shape: tuple, n: int):
    """The user's array in refnet's layout, or (None, message) when its shape is wrong."""
    try:
        got = np.asarray(got)
    except (TypeError, ValueError) as exc:
        return None, msg("returned.not_array", name=name, exc=exc)
    if got.dtype.kind not in "biuf":
        return None, msg("returned.dtype", name=name, dtype=got.dtype)
    if not got.dtype.isnative:
        # '>f8' is float64 all the same: the byte order is storage, not precision
        got = got.astype(got.dtype.newbyteorder("="))
    if got.shape != expected:
        hint = ""
        kind = name.rstrip("0123456789")
        if kind == "db" and got.shape == conv.batch_shape(n, ref_shape[0]):
            hint = msg("returned.hint_db")
        elif kind == "dW" and got.shape == expected[::-1]:
            other = "out_in" if conv.weights_layout == "in_out" else "in_out"
            hint = msg("returned.hint_dW", other=other)
        elif got.shape == expected[::-1]:
            hint = msg("returned.hint_transpose")
        text = msg(
            "returned.shape",
            name=name,
            got=got.shape,
            want=expected,
            convention=conv.name,
            hint=hint,
        )
        return None, text
    if kind_of(name) == "dW":
        return conv.W_from_user(got), None
    if kind_of(name) == "db":
        return got.reshape(-1), None
    if kind_of(name) in ("delta", "dA", "output", "dX"):
        return conv.batch_from_user(got), None
    return got, None


def kind_of(name: str) -> str:
    return name.rstrip("0123456789")
