"""The crosscheck tolerance policy (TOL1), implemented once.

A tensor ``got`` (refnet) passes against ``ref`` (an oracle: TensorFlow, PyTorch) when
both hold:

    |got - ref| <= atol + rtol * |ref|     elementwise, with atol = rtol * max|ref|
    ||got - ref|| / ||ref|| <= rtol         normwise (Frobenius norms)

    rtol = C * eps * sqrt(n)                                                   (TOL1)

eps is the dtype's machine epsilon (2.2e-16 for float64, 1.2e-7 for float32), n the
longest reduction feeding the tensor (the largest of fan-in, batch size and number of
classes) and C = 10, scaled by depth / 4 beyond four layers (rounding errors add up
layer by layer). The atol term is what makes near-zero entries comparable: an entry of
1e-17 next to entries of 1 carries an absolute rounding error of ~1e-16 from the sums
that produced it, so a plain ``rtol`` with ``atol = 0`` calls it a 100 % error and fails
honest results (tests/crosscheck/test_tolerance.py shows this). The normwise test keeps the atol
from hiding a tensor that is wrong everywhere by a little.

One refinement, for cancellation. An entry can be much smaller than the terms summed
into it (a linear output of 1e-3 from terms of size 1; p - y of a confident softmax; the
loss logsumexp(z) - z_y of a well-classified sample), and then carries the terms'
rounding, not its own: in float32 such an output is known to ~1e-4 of itself, and TOL1
against |ref| alone fails honest results (tests/crosscheck/test_tolerance.py shows one). So
``compare`` passes :func:`magnitudes` M, the size of the terms each entry was summed
from (a running error analysis with root-sum-square propagation), and TOL1 is applied
with |ref| replaced by max(|ref|, M):

    |got - ref| <= rtol * max(M) + rtol * M     and     ||got - ref|| <= rtol * ||M||

Where nothing cancels, M is within a small factor of |ref| and this is docs/design.md's TOL1;
``compare_tensor`` without ``magnitude`` is docs/design.md's TOL1 exactly. (Measured: with |ref|
alone the built-in matrix has one false failure, db3 of a float32 7-19-10-1-21-22-2
network through a width-1 layer at 1.23 x tolerance; with M its worst row is 0.03.)

Measured (``python -m crosscheck``, 200 cases with PyTorch, 2026-12-05): max|got - ref| /
max|ref| is at most 3.2e-15 in float64 (2.6e-15 before the hinge and KL cases) and
1.2e-5 to 2.7e-5 in float32 (it moves from run to run; 5e-7 on 784-256-128-10); the
worst gradient row is 0.05 of its tolerance, the worst training row (float32 Adam on a
three-phase OneCycle against Keras) 0.32. Three TensorFlow quirks are larger than TOL1 in float64 and get
their own stated tolerance, :data:`QUIRKS`, only for networks that use them (every other
network keeps TOL1). oneDNN (on by default in TF on x86) reorders float32 sums: that is
rounding, covered by TOL1; ``TF_ENABLE_ONEDNN_OPTS=0`` turns it off (the worst float32
err/scale of the matrix moves from 1.2e-5 to 1.0e-5, worst err/tol 0.027 either way).
"""

from __future__ import annotations

import math

import numpy as np

from refnet.losses import CLIP_EPSILON

from .report import Row

C = 10.0  # safety factor of TOL1


def policy_rtol(dtype, n: int, depth: int = 1, c: float = C) -> float:
    """rtol = C * eps * sqrt(n), C scaled by depth / 4 beyond four layers (TOL1).

    Parameters
    ----------
    dtype : numpy dtype or name
        float32 or float64; its machine epsilon is eps.
    n : int
        The longest reduction feeding the tensor (fan-in, batch or classes).
    depth : int
        Number of layers of the network.
    c : float
        The safety factor C (10 by default).
    """
    eps = float(np.finfo(np.dtype(dtype)).eps)
    return c * max(1.0, depth / 4) * eps * math.sqrt(max(int(n), 1))


def _index(flat: int, shape: tuple) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def compare_tensor(
    name: str, got, ref, rtol: float, note: str = "", magnitude=None
) -> Row:
    """One report row: ``got`` against ``ref`` under TOL1 with this ``rtol``.

    ``magnitude`` (optional, ref's shape) is M of :func:`magnitudes`: the size of the
    terms summed into each entry. TOL1 is applied with |ref| replaced by max(|ref|, M):

        |got - ref| <= rtol * max(M) + rtol * M   and   ||got - ref|| <= rtol * ||M||

    so without ``magnitude`` this is exactly docs/design.md's TOL1 (atol = rtol * max|ref|).

    A shape or dtype mismatch (``got`` of another dtype than ``ref``: a silent upcast or
    downcast) fails the row outright. ``where`` is the index of the element with the
    largest error relative to its bound; ``ratio`` is the worst of that elementwise ratio
    and the normwise error / rtol, so a row passes when ratio <= 1.
    """
    got_arr, ref_arr = np.asarray(got), np.asarray(ref)
    shape = tuple(ref_arr.shape)
    if got_arr.shape != ref_arr.shape:
        return Row(
            name,
            shape,
            math.inf,
            math.inf,
            rtol,
            math.nan,
            False,
            None,
            math.inf,
            f"shape {got_arr.shape}, expected {shape}",
        )
    dtype_ok = got_arr.dtype == ref_arr.dtype
    if not dtype_ok:
        note = f"dtype {got_arr.dtype}, expected {ref_arr.dtype}"
    g = got_arr.astype(np.float64)
    r = ref_arr.astype(np.float64)
    if not (np.isfinite(g).all() and np.isfinite(r).all()):
        # Never a pass: equal NaN/inf on both sides is agreement on garbage (NONFINITE);
        # anything else is a mismatch.
        same = bool(np.array_equal(g, r, equal_nan=True))
        where = _index(int(np.argmin(np.isfinite(r) & np.isfinite(g))), shape)
        return Row(
            name,
            shape,
            math.inf,
            math.inf,
            rtol,
            math.nan,
            False,
            where,
            math.inf,
            note or ("NaN or inf on both sides" if same else "non-finite values"),
            verdict="NONFINITE" if same else "FAIL",
        )
    m = np.abs(r)
    if magnitude is not None:
        m = np.maximum(
            m, np.broadcast_to(np.asarray(magnitude, dtype=np.float64), shape)
        )
    diff = g - r
    err = np.abs(diff)
    atol = rtol * (float(m.max()) if m.size else 0.0)
    bound = atol + rtol * m
    with np.errstate(divide="ignore", invalid="ignore"):
        # inf where the bound is 0 and err is not
        elem = np.where(err == 0, 0.0, err / bound)
    norm_m, norm_err = float(np.linalg.norm(m)), float(np.linalg.norm(diff))
    norm_ref = float(np.linalg.norm(r))
    normwise = (
        norm_err / norm_ref if norm_ref > 0 else (0.0 if norm_err == 0 else math.inf)
    )
    if norm_err == 0:
        norm_ratio = 0.0
    elif rtol > 0 and norm_m > 0:
        norm_ratio = norm_err / (rtol * norm_m)
    else:
        norm_ratio = math.inf
    worst = int(np.argmax(elem)) if elem.size else 0
    ratio = max(float(elem.max()) if elem.size else 0.0, norm_ratio)
    return Row(
        name,
        shape,
        float(err.max()) if err.size else 0.0,
        normwise,
        rtol,
        atol,
        bool(dtype_ok and ratio <= 1.0),
        _index(worst, shape),
        ratio,
        note,
        float(np.abs(r).max()) if r.size else 0.0,
    )


# ---------------------------------------------------------------------------------
# Magnitudes: the size of the terms summed into every entry (the scale of rounding)
# ---------------------------------------------------------------------------------


def _df_abs(act, z: np.ndarray, a: np.ndarray, z_mag: np.ndarray) -> np.ndarray:
    """|f'(z)| + |f''(z)| zbar + 1: the magnitude of f'(z) and of its rounding.

    A smooth non-linear f' is evaluated from O(1) terms (a (1 - a), 1 - a^2, ...), so its
    absolute rounding error is O(eps) however small f' is (saturated sigmoid), and an
    error of eps * zbar in z moves it by |f''| eps zbar (f'' by central differences).
    linear, relu and leaky_relu have exact derivatives away from the kink.
    """
    d = np.abs(act.df(z, a))
    if act.name == "linear" or not act.smooth:
        return d
    h = 1e-5 * (1 + np.abs(z))
    f2 = (act.df(z + h, None) - act.df(z - h, None)) / (2 * h)
    return d + np.abs(f2) * z_mag + 1


def _softmax_abs(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """|softmax Jacobian| applied to a magnitude v: a (v + sum(a v)) (SM1 with |.|)."""
    return a * (v + (a * v).sum(axis=-1, keepdims=True))


def _loss_abs(loss: str, a, a_mag, y) -> tuple[float, np.ndarray]:
    """(magnitude of L, magnitude of dL/da) for output a with magnitude a_mag.

    Each is the size of the terms that are subtracted: a - y (mse), p - y and
    logsumexp(z) - z_y (softmax cross-entropy), sigmoid(z) - y (binary), the
    relative error of the renormalised probabilities (categorical from probabilities)
    and of the clipped a (KL, LS7), 1 - s a (hinge and squared hinge, LS8, LS9) and
    neg - pos + 1 (categorical hinge, LS10), whose gradients are +-1/(nk) or 1/n.
    """
    n, k = a.shape
    if loss == "mse":
        r = np.abs(a - y)
        big = a_mag + np.abs(y)
        return float(np.mean(r * r) + np.mean(2 * r * big)), 2 * big / (n * k)
    if loss == "softmax_cross_entropy":
        m = a.max(axis=1, keepdims=True)
        e = np.exp(a - m)
        p = e / e.sum(axis=1, keepdims=True)
        lse = m + np.log(e.sum(axis=1, keepdims=True))
        p_mag = p * (1 + a_mag + (p * a_mag).sum(axis=1, keepdims=True))
        value = np.mean(
            (np.abs(y) * (np.abs(lse) + np.abs(a)) + (p + np.abs(y)) * a_mag).sum(
                axis=1
            )
        )
        return float(value), (p_mag + np.abs(y)) / n
    if loss == "binary_cross_entropy":
        s = 0.5 * (1 + np.tanh(0.5 * a))  # sigmoid without overflow
        value = np.mean(
            np.abs(a) * (1 + np.abs(y))
            + np.log1p(np.exp(-np.abs(a)))
            + (s + np.abs(y)) * a_mag
        )
        return float(value), (s + s * (1 - s) * a_mag + np.abs(y)) / (n * k)
    if loss == "categorical_cross_entropy":
        s = a.sum(axis=1, keepdims=True)
        # the clip's gradient is 0 outside [eps, 1 - eps]
        inside = (a / s >= CLIP_EPSILON) & (a / s <= 1 - CLIP_EPSILON)
        p = np.clip(a / s, CLIP_EPSILON, 1 - CLIP_EPSILON)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(a > 0, a_mag / a, 0.0)  # relative error of each a_j
        rel = 1 + rel + rel.max(axis=1, keepdims=True)  # ... and of p_j = a_j / sum a
        g = np.where(inside, np.abs(y) / (n * p), 0.0)
        value = np.mean((np.abs(y) * (np.abs(np.log(p)) + rel)).sum(axis=1))
        return float(value), (g * rel + (g * p * rel).sum(axis=1, keepdims=True)) / s
    if loss == "kl_divergence":
        yc = np.clip(y, CLIP_EPSILON, 1)
        inside = (a >= CLIP_EPSILON) & (a <= 1)  # the clip's gradient, LS7
        ac = np.clip(a, CLIP_EPSILON, 1)
        rel = 1 + np.where(inside, a_mag / ac, 0.0)  # relative error of each a_j
        value = np.mean((yc * (np.abs(np.log(yc / ac)) + rel)).sum(axis=1))
        return float(value), np.where(inside, yc / (n * ac), 0.0) * rel
    if loss in ("hinge", "squared_hinge"):
        s = 2 * y - 1 if ((y == 0) | (y == 1)).all() else y  # Keras' label conversion
        terms = 1 + np.abs(s) * (np.abs(a) + a_mag)  # m = 1 - s a: what cancels
        if loss == "hinge":
            return float(np.mean(terms)), np.full(a.shape, 1 / (n * k))
        h = np.maximum(1 - s * a, 0)
        return float(np.mean(h * h + 2 * h * terms)), 2 * (h + terms) / (n * k)
    if loss == "categorical_hinge":
        r = np.abs((1 - y) * a) + a_mag
        pos = (np.abs(y) * (np.abs(a) + a_mag)).sum(axis=1)
        return float(np.mean(1 + r.max(axis=1) + pos)), np.full(a.shape, 1 / n)
    raise ValueError(
        f"loss: expected one of {sorted(['mse', 'softmax_cross_entropy', 'binary_cross_entropy', 'categorical_cross_entropy', 'kl_divergence', 'hinge', 'squared_hinge', 'categorical_hinge'])}, got {loss!r}"
    )


def magnitudes(layers, X, z, a, y, loss: str, masks=None) -> dict[str, np.ndarray]:
    """M per reported tensor: the magnitude of the terms rounding errors scale with.

    A running error analysis in which rounding errors are independent, so a sum's error
    grows like the root of the sum of its terms' squares (the sqrt(n) of TOL1's rtol
    covers the count of terms; the worst-case bound n eps |x| . |y| would be orders of
    magnitude too loose for deep networks). With x^2 and sqrt elementwise:

        zbar[l] = sqrt(abar[l-1]^2 @ W[l]^2 + b[l]^2)    abar[0] = |X|
        abar[l] = |a[l]| + |f'(z[l])| zbar[l]            (softmax: its Jacobian with |.|)
        gbar[L] = |dL/da| with every subtraction's terms added (see _loss_abs)
        dbar[l] = gbar[l] * (|f'| + |f''| zbar + 1)
        gbar[l-1] = sqrt(dbar[l]^2 @ W[l]^2.T)
        dW: sqrt(abar[l-1]^2.T @ dbar[l]^2)            db: sqrt(sum over rows of dbar[l]^2)

    Where nothing cancels, M is within a small factor of |ref| and TOL1 reads as in
    docs/design.md; where a sum cancels (an output of 1e-3 from terms of size 1, a confident
    softmax whose p - y is 1e-9) M keeps the tolerance at the size of the actual rounding.

    Parameters
    ----------
    layers : list of (W, b, Activation)
        The network's weights and refnet activation entries; b is None for a layer
        without bias (no db entry then).
    X : array (n, n_0)
    z, a : lists of (n, n_l) arrays
        The reference (TensorFlow) pre-activations and activations, a without a[0].
    y : array (n, n_L)
        Targets as rows (one-hot for class ids).
    loss : str
        A refnet loss name.
    masks : list of (n, n_l) arrays or None per layer, optional
        Dropout masks: the next layer reads m * a[l], so the magnitude it sums is
        |m| abar[l], and the gradient reaching f' is |m| gbar[l] (BP6, BP7).
    """
    f64 = np.float64
    a_mag = np.abs(np.asarray(X, f64))
    zs = [np.asarray(t, f64) for t in z]
    acts = [np.asarray(t, f64) for t in a]
    L = len(layers)
    m_abs = (
        [None] * L
        if masks is None
        else [None if m is None else np.abs(np.asarray(m, f64)) for m in masks]
    )
    z_mags, a_mags, in_mags = [], [a_mag], [a_mag]  # in_mags: what each layer reads
    for (W, b, act), zl, al, ml in zip(layers, zs, acts, m_abs):
        W2 = np.square(np.asarray(W, f64))
        b2 = 0.0 if b is None else np.square(np.asarray(b, f64))  # no bias: no term
        z_mag = np.sqrt(np.square(in_mags[-1]) @ W2 + b2)  # (n, n_l)
        if act.elementwise:
            a_mag = np.abs(al) + np.abs(act.df(zl, al)) * z_mag
        else:
            a_mag = np.abs(al) + _softmax_abs(al, z_mag)
        z_mags.append(z_mag)
        a_mags.append(a_mag)
        in_mags.append(a_mag if ml is None else ml * a_mag)
    out = {"output": a_mag}
    out["loss"], g_mag = _loss_abs(loss, acts[-1], a_mag, np.asarray(y, f64))
    for l in range(len(layers), 0, -1):
        W, _, act = layers[l - 1]
        zl, al, z_mag = zs[l - 1], acts[l - 1], z_mags[l - 1]
        if m_abs[l - 1] is not None:  # dL/da = m * dL/da~
            g_mag = m_abs[l - 1] * g_mag
        if act.elementwise:
            d_mag = g_mag * _df_abs(act, zl, al, z_mag)
        else:
            d_mag = _softmax_abs(a_mags[l], g_mag)
        out[f"delta{l}"] = d_mag
        d2 = np.square(d_mag)
        out[f"dW{l}"] = np.sqrt(np.square(in_mags[l - 1]).T @ d2)  # (n_{l-1}, n_l)
        if layers[l - 1][1] is not None:
            out[f"db{l}"] = np.sqrt(d2.sum(axis=0))
        g_mag = np.sqrt(d2 @ np.square(np.asarray(W, f64)).T)  # (n, n_{l-1})
    return out


PROBE_RTOL = 1e-4


def check_probe(run, net, name: str, hint: str) -> None:
    """ValueError unless a converted ``net`` reproduces the framework model's own output
    on a probe batch: ``run(X)`` is the model's output (a NumPy array) for X of shape
    (4, *input_shape). What a model's layers hold is not always what it computes (a
    layer subclass overriding its forward, a hook); ``hint`` says what may do it. from_keras
    and from_torch call it after every conversion."""
    shape = net.input_shape or (net.sizes[0],)
    X = np.random.default_rng(0).normal(size=(4, *shape)).astype(net.dtype)
    try:
        theirs = np.asarray(run(X))
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else ""
        raise ValueError(
            f"{name}: running it on a probe batch of shape {X.shape} failed "
            f"({type(err).__name__}: {first})"
        ) from None
    ours = net.forward(X.reshape(4, -1))
    # a probe looks for another computation, not for rounding or a framework's float32
    # constants (Keras' LeakyReLU slope): TOL1, but never tighter than PROBE_RTOL
    rtol = max(policy_rtol(net.dtype, max(net.sizes), len(net.layers)), PROBE_RTOL)
    if theirs.shape == ours.shape and compare_tensor("probe", theirs, ours, rtol).ok:
        return
    got = f"shape {theirs.shape}"
    if theirs.shape == ours.shape:
        got = f"max |difference| {np.max(np.abs(theirs - ours)):.3g}"
    raise ValueError(
        f"{name}: the converted network does not reproduce the {name}'s own output on "
        f"a probe batch ({got}, expected {ours.shape} within rtol {rtol:.1g}): {hint}"
    )
