"""Entries of z within rounding of a kink (relu, leaky_relu switch f' at z = 0).

Where refnet's z and another implementation's z differ only by rounding yet lie on
opposite sides of 0, the two relu masks differ there and every delta below differs by
O(1): a difference of rounding, not of backprop. ``compare`` finds such entries
(:func:`kink_entries`) and evaluates the oracle again on refnet's side of the kink,
naming them (:func:`kink_notes`); ``check_backprop`` draws its batch again while a drawn
X has entries near a kink (:func:`near_kinks`). Both measure "within rounding" against
the same scale, the size of the terms summed into each entry (:func:`kink_scale`).
"""

from __future__ import annotations

import numpy as np

import refnet

from .tolerance import policy_rtol

KINK_REDRAWS = 20  # draws of X tried before accepting one with entries near a kink


def has_kink(layer) -> bool:
    """Whether the layer's activation has a kink (relu, leaky_relu: elementwise, not
    smooth)."""
    return not layer.activation.smooth and layer.activation.elementwise


def kink_scale(layer, a) -> np.ndarray:
    """|a[l-1]| @ |W| + |b|: the size of the terms summed into each entry of z[l], which
    rounding scales with."""
    scale = np.abs(a) @ np.abs(layer.W)
    return scale if layer.b is None else scale + np.abs(layer.b)


def kink_entries(net: refnet.Network, res, tf_z: list, rtol: float) -> list:
    """Per layer, the entries where refnet's and an oracle's z[l] straddle a kink within
    rounding (``tf_z``: the oracle's z, TF's or torch's).

    relu and leaky_relu switch their derivative at z = 0 (the mask is z > 0 on both
    sides). Where refnet's z and TF's z differ only by rounding (at most rtol times the
    magnitude |a[l-1]| @ |W| + |b| of the terms summed into it) yet lie on opposite sides
    of 0, the two masks differ there and every delta below differs by O(1): a difference
    of rounding, not of backprop. Returns, per layer, None or (mask, refnet's z). With
    dropout the magnitude is that of the masked input the layer read (BP7).
    """
    pins = []
    for l, layer in enumerate(net.layers):
        if not has_kink(layer):
            pins.append(None)
            continue
        z_ref = np.asarray(res.z[l], np.float64)
        z_tf = np.asarray(tf_z[l], np.float64)
        a_in = res.a[l]  # what layer l+1 read: m * a with a dropout mask (BP7)
        masks = getattr(res, "masks", None)
        if l > 0 and masks and masks[l - 1] is not None:
            a_in = masks[l - 1] * a_in
        scale = kink_scale(layer, a_in)  # (n, n_l)
        bound = rtol * (scale + scale.max(initial=0.0))
        mask = ((z_ref > 0) != (z_tf > 0)) & (np.abs(z_ref - z_tf) <= bound)
        pins.append((mask, np.asarray(res.z[l])) if mask.any() else None)
    return pins


def kink_notes(
    net: refnet.Network, pins: list, tf_z: list, res, who: str = "TF"
) -> list[str]:
    notes = []
    for l, pin in enumerate(pins, start=1):
        if pin is None:
            continue
        mask = pin[0]
        where = [tuple(int(i) for i in idx) for idx in np.argwhere(mask)[:3]]
        shown = ", ".join(
            f"z{l}{list(w)}: refnet {res.z[l - 1][w]:.2g}, {who} {tf_z[l - 1][w]:.2g}"
            for w in where
        )
        more = f" and {int(mask.sum()) - 3} more" if mask.sum() > 3 else ""
        notes.append(
            f"kink: {shown}{more} straddle {net.activations[l - 1]}'s kink at 0 within "
            f"rounding; {who} was evaluated on refnet's side of it (one shared mask), "
            'chapter 7 "Checking it"'
        )
    return notes


def near_kink_entries(
    net: refnet.Network, X, rounding_only: bool = False
) -> list[tuple[int, tuple[int, int]]]:
    """(layer index l, 0-based; (row, column)) of every entry of z in a layer with a
    kink (relu, leaky_relu) that lies within rounding of it: |z| <= rtol (|a[l-1]| @ |W|
    + |b|) entry by entry, rtol of TOL1 (float32: ~2e-5 of the terms summed at n = 256,
    about ten times the rounding a sum of n terms really shows). ``rounding_only``
    leaves out the entries whose terms are all exactly 0 (z = 0 in any order)."""
    a = X
    rtol = policy_rtol(net.dtype, max(max(net.sizes), X.shape[0]), len(net.layers))
    found = []
    for l, layer in enumerate(net.layers):
        z = a @ layer.W + (0 if layer.b is None else layer.b)
        if has_kink(layer):
            scale = kink_scale(layer, a)
            near = np.abs(z) <= rtol * scale
            if rounding_only:
                # a z summed from exact zeros is 0 in every order: no rounding can
                # move it across the kink
                near &= scale > 0
            near = np.argwhere(near)
            found += [(l, (int(i), int(j))) for i, j in near]
        a = layer.activation.f(z)
    return found


def describe_entries(entries) -> str:
    """ "z2[3, 5], z1[0, 1] and 4 more" for (layer index, (row, column)) entries."""
    names = [f"z{l + 1}{list(idx)}" for l, idx in entries]
    from .messages import msg

    more = msg("check.kink_more", k=len(names) - 3) if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def near_kinks(net: refnet.Network, X) -> str:
    """The entries of :func:`near_kink_entries`, described: your code, summing in
    another order, may put such an entry on the other side of 0, and every delta below
    it then differs by O(1). "" when there are none, else a short description naming
    the first few (as z2[3, 5])."""
    return describe_entries(near_kink_entries(net, X))


def with_kinks_flipped(net: refnet.Network, entries) -> refnet.Network:
    """A copy of ``net`` (same weights) whose f' is taken from the other side of the
    kink at the given (layer index, (row, column)) entries of one batch: the backprop
    of code whose rounding put those entries of z on the other side of 0."""
    layers = []
    for l, layer in enumerate(net.layers):
        mine = [idx for k, idx in entries if k == l]
        act = _flipped(layer.activation, mine) if mine else layer.activation
        copy = refnet.layers.Dense(
            layer.W.shape[0],
            layer.W.shape[1],
            act,
            init="zeros",
            dtype=layer.W.dtype,
            use_bias=layer.b is not None,
        )
        layers.append(copy)
    out = refnet.Network(layers)
    out.set_weights(net.get_weights())
    return out


def _flipped(act, where: list) -> refnet.activations.Activation:
    """``act`` whose derivative at the batch entries ``where`` is the other side's."""
    slope = act.negative_slope or 0.0
    rows, cols = (np.array(x) for x in zip(*where))

    def df(z, a):
        d = np.array(act.df(z, a), copy=True)
        d[rows, cols] = np.where(z[rows, cols] > 0, slope, 1.0)
        return d

    return refnet.activations.Activation(
        act.name, act.f, df, smooth=False, negative_slope=act.negative_slope
    )
