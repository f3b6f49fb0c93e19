"""Gradient checking by central differences in float64.

For every parameter entry theta (every W, b) and every pre-activation entry z:

    dL/dtheta ~ (L(theta + h) - L(theta - h)) / (2 h),   h = step * max(1, |theta|)    (FD1)

with an error O(h^2) from truncation and O(eps / h) from rounding, so step = 1e-5 in
float64 leaves about 1e-10 of either. The network's own ``gradients`` (a subclass's
override included) supplies the analytic side, computed on a float64 copy.

A finite difference across a kink (relu, leaky_relu at z = 0) measures neither one-sided
derivative, so any entry whose +h or -h evaluation flips the sign of some z in a layer
with a kink is skipped and counted, not compared. The same holds for a loss's own kinks
(``Loss.branches``: the hinges' margin s a = 1, a tie in the categorical hinge's max,
the KL clip's bounds, LS7-LS10).

Rows are named with the docs' 1-based layer numbers: ``dW1`` is ``res.dW[0]``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from . import dropout, losses
from .network import Network
from .validation import check_float, check_input, check_size, rng_from


@dataclass
class CheckRow:
    """One tensor's comparison: analytic against numeric gradient."""

    name: str
    shape: tuple
    checked: int
    skipped: int
    max_abs_err: float
    max_rel_err: float  # |num - ana| / max(|num|, max|num| of the tensor): error relative to scale
    where: tuple | None  # index of the worst entry
    ok: bool


@dataclass
class GradcheckReport:
    rows: list[CheckRow]
    rtol: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def __str__(self) -> str:
        head = f"{'tensor':<9}{'shape':<14}{'checked':>8}{'skipped':>8}{'max abs err':>13}{'rel err':>11}  where        ok"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(
                f"{r.name:<9}{str(r.shape):<14}{r.checked:>8}{r.skipped:>8}"
                f"{r.max_abs_err:>13.2e}{r.max_rel_err:>11.2e}  {str(r.where):<12} {'ok' if r.ok else 'FAIL'}"
            )
        lines.append(f"{'PASS' if self.ok else 'FAIL'} (rtol {self.rtol:g})")
        return "\n".join(lines)


def _float64_copy(net: Network) -> Network:
    # keeps the class, so a subclass's gradients() is checked
    clone = copy.deepcopy(net)
    for layer in clone.layers:
        layer.W = layer.W.astype(np.float64)
        if layer.b is not None:
            layer.b = layer.b.astype(np.float64)
    return clone


def _loss_from(
    net: Network, start: int, a, z, y, loss, drop=None
) -> tuple[float, list]:
    """L for the forward pass that resumes at layer ``start`` with pre-activation z
    (``a``: the input layer ``start`` reads, already through its dropout mask).

    Also returns the kink masks (z > 0) of the non-smooth layers, and last the loss's
    own branches where it has kinks, to spot a crossing. ``drop``: the dropout masks,
    one per layer (None where none), each multiplying that layer's output a[l].
    """
    masks = []
    for l in range(start, len(net.layers)):
        layer = net.layers[l]
        if l > start or z is None:
            z = a @ layer.W  # (n, n_l)    FP1
            if layer.b is not None:
                z = z + layer.b
        if not layer.activation.smooth:
            masks.append(z > 0)
        a = layer.activation.f(z)  # FP2
        if drop is not None and drop[l] is not None and l < len(net.layers) - 1:
            a = drop[l] * a  # what the next layer reads, a~ = m * a (BP7)
    if loss.branches is not None:
        masks.append(loss.branches(a, y))
    return loss.value(a, y), masks


def gradcheck(
    net: Network,
    X,
    Y,
    loss="mse",
    *,
    step: float = 1e-5,
    rtol: float = 1e-6,
    max_entries: int | None = None,
    seed: int = 0,
    masks=None,
) -> GradcheckReport:
    """Compare ``net.gradients`` with central differences (FD1) for every dW, db and delta.

    Parameters
    ----------
    net : Network
        Checked on a float64 copy; ``net`` itself is not modified.
    X, Y, loss
        As for ``Network.gradients``.
    step : float
        Relative finite-difference step h.
    rtol : float
        An entry passes when |num - ana| <= rtol * max(|num|, max|num| over the tensor)
        + an absolute floor of 100 eps |L| / h for the rounding of L itself.
    max_entries : int, optional
        Check at most this many randomly chosen entries per tensor (all by default).
    seed : int
        Chooses the sampled entries.
    masks : list or seed, optional
        Dropout masks, as for ``Network.gradients``: both sides then run in training
        mode with the same masks (the numeric forward pass multiplies each a[l] by its
        mask, BP6 and BP7 on the analytic side). None: inference, dropout off.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net: expected a refnet.Network, got {type(net).__name__}")
    loss = losses.get(loss)
    step = check_float(step, "step", minimum=0.0, strict=True)
    rtol = check_float(rtol, "rtol", minimum=0.0)
    if max_entries is not None:
        max_entries = check_size(max_entries, "max_entries")
    rng = rng_from(seed)
    net64 = _float64_copy(net)
    X = check_input(X, net64.sizes[0], np.dtype(np.float64), "X", net64.input_shape)
    # drawn or checked once, by refnet's own code (not a subclass's), for both sides
    drop = (
        None
        if masks is None
        else dropout.masks_for(masks, net64.layers, len(X), X.dtype)
    )
    # the analytic side (a subclass's gradients(X, Y, loss) need not take masks)
    if drop is None:
        res = net64.gradients(X, Y, loss)
    else:
        res = net64.gradients(X, Y, loss, masks=drop)
    y = loss.prepare(Y, res.a[-1])
    floor = 100 * np.finfo(np.float64).eps * max(abs(res.loss), 1.0) / step
    numeric = _CentralDifferences(net64, X, res, y, loss, step, max_entries, rng, drop)
    rows = []
    for l, layer in enumerate(net64.layers):
        rows += _layer_rows(numeric, l, layer, res, rtol, floor)
    return GradcheckReport(rows, rtol)


class _CentralDifferences:
    """The numeric side (FD1): L's central differences with respect to the entries of
    one tensor at a time, each evaluation resuming the forward pass at its layer."""

    def __init__(self, net64, X, res, y, loss, step, max_entries, rng, drop=None):
        self.net64, self.res, self.y, self.loss = net64, res, y, loss
        self.step, self.max_entries, self.rng = step, max_entries, rng
        self.drop = drop
        _, self.base_masks = _loss_from(net64, 0, X, None, y, loss, self.drop)

    def __call__(
        self, target, start, z_of
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(flat indices chosen, their differences, usable: no kink crossed)."""
        flat = np.arange(target.size)
        if self.max_entries is not None and target.size > self.max_entries:
            flat = np.sort(
                self.rng.choice(target.size, self.max_entries, replace=False)
            )
        num = np.empty(flat.size)
        usable = np.ones(flat.size, dtype=bool)
        a_start = self.res.a[start]
        if start > 0 and self.drop is not None and self.drop[start - 1] is not None:
            a_start = self.drop[start - 1] * a_start  # the input layer start reads
        for k, i in enumerate(flat):
            idx = np.unravel_index(i, target.shape)
            saved = target[idx]
            h = self.step * max(1.0, abs(saved))
            values = []
            for sign in (1, -1):
                target[idx] = saved + sign * h
                value, masks = _loss_from(
                    self.net64, start, a_start, z_of(), self.y, self.loss, self.drop
                )
                values.append(value)
                kept = self.base_masks[len(self.base_masks) - len(masks) :]
                usable[k] &= all(np.array_equal(m, b) for m, b in zip(masks, kept))
            target[idx] = saved
            num[k] = (values[0] - values[1]) / (2 * h)
        return flat, num, usable


def _layer_rows(
    numeric, l: int, layer, res, rtol: float, floor: float
) -> list[CheckRow]:
    """Layer l+1's rows: dW, db (when it has a bias) and delta, analytic against numeric."""
    rows = []
    z_l = res.z[l].copy()
    checks = [
        (f"dW{l + 1}", layer.W, res.dW[l], lambda: None),
        (f"db{l + 1}", layer.b, res.db[l], lambda: None),
        (f"delta{l + 1}", z_l, res.delta[l], lambda z=z_l: z),
    ]
    if layer.b is None:  # no bias: db must be None (not zeros); no row to check
        checks.pop(1)
        if res.db[l] is not None:
            rows.append(CheckRow(f"db{l + 1}", (), 0, 0, np.inf, np.inf, None, False))
    for name, target, analytic, z_of in checks:
        if np.shape(analytic) != target.shape:  # e.g. db as (1, n): a failure too
            rows.append(CheckRow(name, target.shape, 0, 0, np.inf, np.inf, None, False))
            continue
        flat, num, usable = numeric(target, l, z_of)
        ana = np.asarray(analytic, dtype=np.float64).ravel()[flat]
        rows.append(_row(name, target.shape, flat, num, ana, usable, rtol, floor))
    return rows


def _row(name, shape, flat, num, ana, usable, rtol, floor) -> CheckRow:
    num, ana, flat = num[usable], ana[usable], flat[usable]
    skipped = int((~usable).sum())
    if num.size == 0:
        return CheckRow(name, shape, 0, skipped, 0.0, 0.0, None, True)
    err = np.abs(num - ana)
    scale = np.maximum(np.abs(num), np.abs(num).max())
    rel = err / np.where(scale > 0, scale, 1.0)
    worst = int(np.argmax(rel))
    ok = bool((err <= rtol * scale + floor).all())
    where = tuple(int(i) for i in np.unravel_index(flat[worst], shape))
    return CheckRow(
        name,
        shape,
        int(num.size),
        skipped,
        float(err.max()),
        float(rel.max()),
        where,
        ok,
    )
