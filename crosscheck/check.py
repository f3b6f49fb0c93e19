"""compare(net, X, Y, loss): refnet's backprop against TensorFlow's, PyTorch's and JAX's.

Each oracle (``crosscheck/frameworks/<name>/oracle.py``: ``tf``, ``torch``, ``jax``)
builds the identical network from ``net`` and runs it layer by layer, so every
pre-activation is a tensor its autodiff can differentiate against:

    z[l] = a[l-1] @ W[l] + b[l]                                        (FP1)
    a[l] = f_l(z[l])                                                   (FP2)
    L    = the loss with Keras' reductions, in the network's dtype
    delta[l] = dL/dz[l],  dW[l], db[l] = dL/dW[l], dL/db[l]

and the framework model's own call ``model(X)`` must reproduce the layer-by-layer output
(row ``model(X)``), so the network compared really is that model. refnet's side is
``net.gradients(X, Y, loss)``: a subclass that overrides it is checked as is.

With two or more oracles every row also compares the oracles with each other, and the
parties (refnet and each framework) vote: when exactly one disagrees with all the others
while they agree, the row and the report name it as the odd one out. A refnet bug makes
refnet the odd one out; a framework quirk makes that framework the odd one out, outvoted
by refnet and the other frameworks (docs/07-checking.md).

The frameworks' pitfalls, each with its measured size and the test that pins it, are in
their oracle's docstring (crosscheck/frameworks/tf/oracle.py, .../torch/oracle.py,
.../jax/oracle.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import refnet
from refnet.validation import check_bool, check_input

from . import frameworks as oracles
from .frameworks import workers
from .kinks import kink_entries, kink_notes
from .report import Report, Row, combine, crash_row
from .tolerance import C, compare_tensor, magnitudes, policy_rtol


def _run_pinned(name, net, l2, res, x, Y, loss_name, reduction, rtol, masks=None):
    """Oracle ``name``'s backprop, run again with z pinned at kink entries until the
    masks agree (a few rounds: pinning layer l moves the z of the layers after it by
    rounding).

    Returns (the oracle's result, the pins, the oracle's unpinned z)."""
    out = oracles.backprop(name, net, l2, x, Y, loss_name, reduction, None, masks)
    L = len(net.layers)
    pins, first_z = [None] * L, out["z"]
    for _ in range(L):
        found = kink_entries(net, res, out["z"], rtol)
        if all(p is None for p in found):
            break
        pins = [
            q if p is None else (p if q is None else (p[0] | q[0], p[1]))
            for p, q in zip(found, pins)
        ]
        out = oracles.backprop(name, net, l2, x, Y, loss_name, reduction, pins, masks)
    return out, pins, first_z


class NoOracleForMasks(ImportError):
    """No oracle that ran takes dropout masks: a dropout case cannot be compared (the
    main job skips such a case with a note; compare() itself raises)."""


def compare(
    net: refnet.Network,
    X,
    Y,
    loss="mse",
    *,
    model=None,
    c: float = C,
    l2: float = 0.0,
    dX: bool = False,
    oracle=None,
    quirks: bool = True,
    masks=None,
) -> Report:
    """Rows loss, output, model(X), then delta{l}, dW{l}, db{l} for l = L..1 (TOL1).

    Every row holds refnet against each oracle and, with several, the oracles against
    each other; a row passes when refnet agrees with every oracle.

    Parameters
    ----------
    net : refnet.Network
        Its ``gradients`` method (a subclass's override included) is what is checked.
        The oracles' networks are built from it (exact weights, net's dtype).
    X : array (n, n_0)
        Inputs, cast to net's dtype.
    Y : array
        Targets as ``net.gradients`` takes them.
    loss : str or refnet Loss
        A name from ``refnet.losses.names()``, or ``refnet.losses.get(name,
        reduction="sum")`` (Keras' "sum", LS5).
    model : keras model, optional
        A user's Keras model to check as well: it must have net's dtype and exactly
        net's weights, and its own ``model(X)`` is the row ``model(X)`` against each
        oracle's output. Without it that row is each framework model's own call.
    c : float
        The tolerance policy's safety factor C.
    l2 : float
        L2 weight decay: ``net.gradients(..., l2=l2)`` against l2 * sum(W^2) per layer
        in each oracle (LS6; Keras' ``kernel_regularizer=L2(l2)``). Keras casts l2
        through float32 even for float64 weights (``ops.cast(0.01, "float64")`` is
        0.0099999997764825820); refnet and every oracle are given that same value
        (mirrored, with a note).
    dX : bool
        Also compare ``res.dX`` with the oracles' dL/dX (row ``dX``, BP5), last.
    oracle : None, str or tuple of str
        "tf", "torch", "jax" or a tuple of them; None: every installed oracle. One that is not
        installed is skipped with a note (ImportError when none is left).
    quirks : bool
        Give networks that use a quirky activation the oracle's stated rtol
        (each oracle's ``quirk``); False: strict TOL1 everywhere, so a quirk shows
        as a disagreement (docs/07-checking.md uses this to show triangulation).
    masks : None, list, int or numpy Generator
        Dropout in training mode (``refnet.dropout``): a list of masks as
        ``net.dropout_masks`` returns them, or a seed to draw them with it. refnet gets
        ``net.gradients(..., masks=masks)`` and every oracle multiplies each a[l] by
        the same mask in its forward pass, so their autodiff differentiates through it
        (BP6, BP7). None: no dropout (inference), as before.

    Returns
    -------
    Report
        ``report.ok``; ``report.first_failure`` names where a mismatch first shows
        (rows follow backprop's order: output layer first); ``report.odd_ones``.
    """
    if not isinstance(net, refnet.Network):
        raise TypeError(f"net: expected refnet.Network, got {type(net).__name__}")
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0 < c < 1e6:
        raise ValueError(f"c: expected a safety factor in (0, 1e6), got {c!r}")
    dX, quirks = check_bool(dX, "dX"), check_bool(quirks, "quirks")
    loss_obj = refnet.losses.get(loss)
    x = _flat_input(net, X)
    masks = _masks(net, masks, x.shape[0])
    res, l2, notes = _refnet_side(net, X, Y, loss_obj, l2, masks)
    # The oracles last: the user's arguments are checked even where no framework is.
    names, skipped = oracles.select(oracle)
    notes = skipped + notes
    if model is not None:  # it must hold net's exact function, checked first
        user_output, user_notes = oracles.slot("tf", "models").check_user_model(
            net, model
        )
        notes += user_notes
    policy = policy_rtol(net.dtype, max(max(net.sizes), x.shape[0]), len(net.layers), c)
    side = _oracle_side(names, net, l2, res, x, Y, loss_obj, policy, quirks, masks)
    notes = side.quirk_notes + notes + side.kink_notes
    title = _title(net, loss_obj.name, loss_obj.reduction, l2, x, names, c, quirks)
    if masks is not None:
        title = title.replace(
            f" batch {x.shape[0]} ", f" batch {x.shape[0]} with dropout masks "
        )
    if not side.names and not side.crashed:  # none of them takes dropout masks
        raise NoOracleForMasks(
            "no oracle to compare with; " + "; ".join(side.quirk_notes)
        )
    if not side.names:  # every oracle crashed: nothing to compare with
        return Report(title, side.crashed, notes)
    M = _magnitudes(net, x, side, loss_obj, l2, dX, masks)
    if model is not None:  # the user's Keras model, in its own input shape
        model_row = _user_model_row(user_output(x, masks), net, side, M, policy, quirks)
    else:  # each framework model's own call against its layer-by-layer run
        model_row = combine(
            "model(X)",
            {
                o: compare_tensor(
                    "model(X)",
                    side.results[o]["model_output"],
                    side.results[o]["output"],
                    side.rtols[o],
                    side.row_notes[o],
                    M["output"],
                )
                for o in side.names
            },
        )
    rows = _rows(net, res, side, M, policy, model_row, dX)
    return Report(title, side.crashed + rows, notes)


def _masks(net, masks, n: int):
    """compare's ``masks``: None, or one (n, n_l) array or None per layer, checked or
    drawn from a seed (``refnet.dropout.masks_for``, as ``net.gradients`` reads them)."""
    if masks is None:
        return None
    return refnet.dropout.masks_for(masks, net.layers, n, net.dtype)


def _refnet_side(net, X, Y, loss_obj, l2, masks=None) -> tuple:
    """(net.gradients on the batch, l2 as Keras casts it, notes). Keras casts l2 through
    float32 even for float64 weights; refnet and every oracle get that same value.
    ``masks`` is passed only when given (an override without it is still checked)."""
    notes = []
    extra = {} if masks is None else {"masks": masks}
    if not l2:  # (an override without the l2 argument is still checked)
        return net.gradients(X, Y, loss_obj, **extra), l2, notes
    l2 = refnet.validation.check_l2(l2)  # the user's backprop, validated there
    if float(np.float32(l2)) != l2:
        notes.append(
            f"l2 {l2!r} mirrored as Keras casts it, through float32: "
            f"{float(np.float32(l2))!r}"
        )
        l2 = float(np.float32(l2))
    return net.gradients(X, Y, loss_obj, l2=l2, **extra), l2, notes


def _flat_input(net, X) -> np.ndarray:
    """X as (n, n_0) in net's dtype; (n, *input_shape) flattened row-major, as Keras'
    Flatten (FL1), for a net that flattens its input."""
    input_shape = getattr(net, "input_shape", None)
    if input_shape is None:
        return check_input(X, net.sizes[0], net.dtype)
    return check_input(X, net.sizes[0], net.dtype, "X", input_shape)


@dataclass
class _OracleSide:
    """Every oracle's results of one compare, and how each is compared."""

    names: list = field(default_factory=list)  # the oracles that answered
    results: dict = field(default_factory=dict)  # name -> the backprop dict
    rtols: dict = field(default_factory=dict)  # name -> TOL1's rtol, or its quirk floor
    row_notes: dict = field(default_factory=dict)  # name -> "quirk rtol" or ""
    crashed: list = field(default_factory=list)  # CRASH rows of oracles that died
    quirk_notes: list = field(default_factory=list)
    kink_notes: list = field(default_factory=list)

    def pairs(self) -> list[tuple[str, str]]:
        return [(p, q) for i, p in enumerate(self.names) for q in self.names[i + 1 :]]


def _oracle_side(
    names, net, l2, res, x, Y, loss_obj, policy, quirks, masks=None
) -> _OracleSide:
    """Each oracle's backprop (pinned at kinks), its rtol and notes; a crashed oracle
    becomes a CRASH row and the others go on."""
    side = _OracleSide()
    for name in names:
        who = oracles.label(name)
        floor, quirk_notes = (
            oracles.quirk_rtol(net.dtype, net.activations, name)
            if quirks
            else (0.0, [])
        )
        side.rtols[name] = max(policy, floor)
        side.row_notes[name] = "quirk rtol" if floor > policy else ""
        many = len(names) > 1
        side.quirk_notes[:0] = [f"{who}: {q}" if many else q for q in quirk_notes]
        try:
            out, pins, first_z = _run_pinned(
                name,
                net,
                l2,
                res,
                x,
                Y,
                loss_obj.name,
                loss_obj.reduction,
                side.rtols[name],
                masks,
            )
        except workers.WorkerCrashed as err:  # an error row; the others go on
            side.crashed.append(crash_row(err, side.rtols[name]))
            continue
        except oracles.NoMasks as err:  # a framework without dropout support
            side.quirk_notes.append(str(err))
            continue
        side.kink_notes += kink_notes(net, pins, first_z, res, who)
        side.results[name] = out
        side.names.append(name)
    return side


def _magnitudes(net, x, side: _OracleSide, loss_obj, l2, dX, masks=None) -> dict:
    """Each row's magnitude for TOL1 (tolerance.magnitudes), from the first oracle's
    z, a and y, with the sum reduction, L2, dX and dropout masks accounted for."""
    ref = side.results[side.names[0]]
    layers = [(layer.W, layer.b, layer.activation) for layer in net.layers]
    M = magnitudes(layers, x, ref["z"], ref["a"], ref["y"], loss_obj.name, masks)
    # every quantity of the backward pass is n times larger
    if loss_obj.reduction == "sum":
        M = {key: m * x.shape[0] for key, m in M.items()}
    if l2:  # L += l2 sum W^2, dW += 2 l2 W (LS6)
        M["loss"] = M["loss"] + sum(l2 * float(np.sum(W**2)) for W, _, _ in layers)
        for l, (W, _, _) in enumerate(layers, start=1):
            M[f"dW{l}"] = M[f"dW{l}"] + 2 * l2 * np.abs(W)
    if dX:  # dL/dX = delta[1] @ W[1].T (BP5), magnitude as one more BP2 step
        W1 = np.abs(np.asarray(net.layers[0].W, np.float64))
        M["dX"] = np.sqrt(np.square(M["delta1"]) @ np.square(W1).T)
    M["model(X)"] = M["output"]
    return M


def _user_model_row(user_out, net, side: _OracleSide, M, policy, quirks) -> Row:
    """The user's Keras model's own output against TF's (one framework); without TF,
    against the others with TF's quirk rtol, since the user's model is TF's."""
    floor = oracles.quirk_rtol(net.dtype, net.activations, "tf")[0] if quirks else 0.0
    return combine(
        "model(X)",
        {
            o: compare_tensor(
                "model(X)",
                user_out,
                side.results[o]["output"],
                max(side.rtols[o], floor),
                "quirk rtol" if floor > policy else "",
                M["output"],
            )
            for o in (["tf"] if "tf" in side.names else side.names)
        },
    )


def _rows(net, res, side: _OracleSide, M, policy, model_row, dX) -> list[Row]:
    """loss, output, model(X), then delta, dW, db from layer L down to 1, then dX."""

    def row(name, ours, theirs):
        """refnet's ``ours`` against each oracle's ``theirs(result)``; oracle pairs."""
        results, rtols, notes = side.results, side.rtols, side.row_notes
        by_oracle = {
            o: compare_tensor(
                name, ours, theirs(results[o]), rtols[o], notes[o], M[name]
            )
            for o in side.names
        }
        by_pair = {
            (p, q): compare_tensor(
                name,
                theirs(results[q]),
                theirs(results[p]),
                max(rtols[p], rtols[q]),
                notes[p] or notes[q],
                M[name],
            )
            for p, q in side.pairs()
        }
        return combine(name, by_oracle, by_pair)

    rows = [
        row("loss", np.float64(res.loss), lambda r: np.float64(r["loss"])),
        row("output", res.a[-1], lambda r: r["output"]),
        model_row,
    ]
    for l in range(len(net.layers), 0, -1):
        i = l - 1
        rows.append(row(f"delta{l}", res.delta[i], lambda r, i=i: r["delta"][i]))
        rows.append(row(f"dW{l}", res.dW[i], lambda r, i=i: r["dW"][i]))
        if net.layers[i].b is not None:  # a layer without bias has no db row
            rows.append(row(f"db{l}", res.db[i], lambda r, i=i: r["db"][i]))
        elif res.db[i] is not None:  # ... and a db for it is wrong
            rows.append(
                Row(
                    f"db{l}",
                    (),
                    math.inf,
                    math.inf,
                    policy,
                    math.nan,
                    False,
                    None,
                    math.inf,
                    "a db for a layer without bias (expected None)",
                )
            )
    if dX:  # (n, *input_shape) for a net with one: flattened like x
        got_dX = np.asarray(res.dX)
        got_dX = got_dX.reshape(got_dX.shape[0], -1) if got_dX.ndim > 2 else got_dX
        rows.append(row("dX", got_dX, lambda r: r["dX"]))
    return rows


def _title(net, loss_name, reduction, l2, x, against, c, quirks) -> str:
    """The report's title: the network, the loss, the oracles and the tolerance."""
    sizes = "-".join(map(str, net.sizes))
    extras = (", reduction=sum" if reduction == "sum" else "") + (
        f", l2={l2:g}" if l2 else ""
    )
    against = ", ".join(oracles.label(o) for o in against)
    L = len(net.layers)
    n = max(max(net.sizes), x.shape[0])
    return (
        f"{type(net).__name__} {sizes} [{','.join(net.activations)}] {loss_name}{extras} "
        f"{net.dtype.name} batch {x.shape[0]} vs {against}: rtol = {c:g} * eps * "
        f"sqrt({n})"
        + (f" * {L}/4" if L > 4 else "")
        + ("" if quirks else ", no quirks")
    )


def assert_match(net: refnet.Network, X, Y, loss="mse", **kwargs) -> Report:
    """compare(...), raising AssertionError with the report's table on any mismatch."""
    report = compare(net, X, Y, loss, **kwargs)
    if not report.ok:
        raise AssertionError("refnet and its oracles disagree\n" + str(report))
    return report
