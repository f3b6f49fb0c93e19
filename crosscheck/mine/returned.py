"""What the user's function returned: read, shape-checked, converted to refnet's layout.

``fn(weights, X, Y)`` may return a list [dW1, db1, ...], a dict with ``"grads"`` (a list,
or a dict keyed ``W1``/``b1``... or ``dW1``/``db1``...) and optionally ``"loss"``,
``"deltas"``, ``"output"``, ``"dX"``, or CS231n's ``(loss, grads)`` pair. Anything else
is a :class:`BadOutput` whose message says what was expected. A wrong shape is not an
exception: :func:`to_rows` returns the message naming the shape expected in the user's
convention (and what the shape it got suggests: a transpose, db not summed), and the
check reports it as that row's failure.
"""

from __future__ import annotations

import numpy as np


class BadOutput(ValueError):
    """What ``fn`` returned cannot be read as gradients (the message says why)."""


def grads_list(grads, L: int) -> list:
    """[dW1, db1, ..., dWL, dbL] from a list or a dict keyed W1/b1... or dW1/db1..."""
    if isinstance(grads, dict):
        for fmt in ("{}{}", "d{}{}"):
            keys = [fmt.format(p, l) for l in range(1, L + 1) for p in "Wb"]
            if all(key in grads for key in keys):
                return [grads[key] for key in keys]
        raise BadOutput(
            f"grads: a dict needs the keys W1, b1, ... W{L}, b{L} (or dW1, db1, ...), "
            f"got {sorted(grads)}"
        )
    if not isinstance(grads, (list, tuple)) or len(grads) != 2 * L:
        got = (
            f"{len(grads)} items"
            if isinstance(grads, (list, tuple))
            else type(grads).__name__
        )
        raise BadOutput(
            f"expected {2 * L} gradients [dW1, db1, ..., dW{L}, db{L}], got {got}"
        )
    return list(grads)


def read(out, L: int) -> dict:
    """{"grads": [...], "loss"?, "deltas"?, "output"?, "dX"?} from fn's return value."""
    if (
        isinstance(out, tuple)
        and len(out) == 2
        and np.ndim(out[0]) == 0
        and isinstance(out[1], (dict, list, tuple))
    ):
        out = {"loss": out[0], "grads": out[1]}  # CS231n's (loss, grads)
    if isinstance(out, dict) and "grads" in out:
        unknown = set(out) - {"grads", "loss", "deltas", "output", "dX"}
        if unknown:
            raise BadOutput(
                f"unknown keys {sorted(unknown)}; expected grads, loss, deltas, output, dX"
            )
        read = dict(out)
        read["grads"] = grads_list(out["grads"], L)
        if "deltas" in read and (
            not isinstance(read["deltas"], (list, tuple)) or len(read["deltas"]) != L
        ):
            raise BadOutput(
                f"deltas: expected a list of {L} arrays (first layer first)"
            )
        return read
    if isinstance(out, (list, tuple, dict)):
        return {"grads": grads_list(out, L)}
    raise BadOutput(
        f"expected a list [dW1, db1, ...] or a dict with 'grads', got {type(out).__name__}"
    )


def to_rows(got, name: str, conv, expected: tuple, ref_shape: tuple, n: int):
    """The user's array in refnet's layout, or (None, message) when its shape is wrong."""
    try:
        got = np.asarray(got)
    except (TypeError, ValueError) as exc:
        return None, f"your {name} is not an array ({exc})"
    if got.dtype.kind not in "biuf":
        return None, f"your {name} has dtype {got.dtype}, expected real numbers"
    if got.shape != expected:
        hint = ""
        kind = name.rstrip("0123456789")
        if kind == "db" and got.shape == conv.batch_shape(n, ref_shape[0]):
            hint = ": one row per example, not summed over the batch (BP3 sums delta over it)"
        elif kind == "dW" and got.shape == expected[::-1]:
            other = "out_in" if conv.weights_layout == "in_out" else "in_out"
            hint = (
                f": the transpose; dW = a[l-1].T @ delta[l] in rows (delta[l] @ "
                f"a[l-1].T in columns), or pass weights_layout='{other}' if W is "
                f"stored that way"
            )
        elif got.shape == expected[::-1]:
            hint = ": the transpose (rows against columns? see the samples override)"
        return None, (
            f"your {name} has shape {got.shape}; expected {expected} in the "
            f"{conv.name} convention{hint}"
        )
    if kind_of(name) == "dW":
        return conv.W_from_user(got), None
    if kind_of(name) == "db":
        return got.reshape(-1), None
    if kind_of(name) in ("delta", "output", "dX"):
        return conv.batch_from_user(got), None
    return got, None


def kind_of(name: str) -> str:
    return name.rstrip("0123456789")
