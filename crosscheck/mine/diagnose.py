"""Say in words what is wrong with a backprop, by testing hypotheses against the reference.

When a row of :func:`crosscheck.check_backprop` fails, the reference (refnet's quantities,
in the user's cost) is *transformed* by each known mistake, and the transformed value is
compared with what the user returned under the same tolerance (TOL1). A hypothesis that
reproduces the user's numbers is the diagnosis; nothing is guessed from the size of an
error alone. The hypotheses, by row:

    every row     a constant factor: n (batch summed, not averaged), 1/n, the factor
                  between two conventions (k, k/2, ...), 2 or 1/2 (LS1's 2), -1 (sign)
    delta[L]      f_L' missing; softmax's Jacobian taken as its diagonal a (1 - a) (SM1);
    (BP1)         softmax cross-entropy's delta without the softmax, (z - y) / n (LS2)
    delta[l]      f_l' missing; f' evaluated at a instead of z; relu'(0) = 1; sigmoid'
    (BP2)         as z (1 - z); f_l' of the layer above; W[l+1] not transposed; a stale
                  W[l+1] (updated before it was used, W - eta dW)
    dW[l] (BP4)   every delta hypothesis carried into dW; z[l-1] for a[l-1]; a[l] for
                  a[l-1]; the transpose delta.T @ a; the L2 term missing (LS6)
    db[l] (BP3)   every delta hypothesis carried into db; the first row of delta, or the
                  mean over rows, instead of the sum
    loss          the L2 term missing (LS6)
    output        z[L] for a[L] (FP2)

Each sentence names the quantity, its equation label and the docs section.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..tolerance import compare_tensor
from .reference import Reference, _split

DOCS = "docs/10-check-your-own.md"
SECTIONS = {
    "BP1": "docs/06-backprop.md (BP1)",
    "BP2": "docs/06-backprop.md (BP2)",
    "BP3": "docs/06-backprop.md (BP3)",
    "BP4": "docs/06-backprop.md (BP4)",
    "BP5": f"{DOCS}, 'What refnet adds for it'",
    "FP1-FP2": "docs/01-notation.md",
    "LS": "docs/05-losses.md",
}
_LOSS_LABELS = {
    "mse": "LS1",
    "softmax_cross_entropy": "LS2",
    "categorical_cross_entropy": "LS3",
    "binary_cross_entropy": "LS4",
}


def label(name: str, loss_name: str, L: int) -> str:
    """The equation label of a row: FP1-FP2, BP1-BP4, or the loss's LS label."""
    if name == "loss":
        return _LOSS_LABELS.get(loss_name, "LS1")
    if name == "output":
        return "FP1-FP2"
    if name == "dX":
        return "BP5"
    kind, l = _split(name)
    if kind == "delta":
        return "BP1" if l == L else "BP2"
    # dA[l] = dL/da[l] = delta[l+1] @ W[l+1].T, BP2's first factor
    return {"dW": "BP4", "db": "BP3", "dX": "BP5", "dA": "BP2"}[kind]


def sentence(name: str, lab: str, text: str) -> str:
    section = SECTIONS.get(lab, SECTIONS["LS"] if lab.startswith("LS") else DOCS)
    return f"{name} ({lab}, {section}): {text}"


# ---------------------------------------------------------------------------------
# Hypotheses: (text, value the row would have under that mistake)
# ---------------------------------------------------------------------------------

Hypothesis = tuple[str, Callable[[], np.ndarray]]


def _delta_hypotheses(ref: Reference, i: int) -> list[Hypothesis]:
    """Alternative delta[l] (l = i + 1) for the known BP1/BP2 mistakes."""
    if i == ref.L - 1:
        return _output_delta_hypotheses(ref)
    return _hidden_delta_hypotheses(ref, i)


def _output_delta_hypotheses(ref: Reference) -> list[Hypothesis]:
    """Alternative delta[L] for the known BP1 mistakes."""
    act, l = ref.acts[-1], ref.L
    z, a, g = ref.z[-1], ref.a[-1], ref.g_out
    out: list[Hypothesis] = []
    if act.name != "linear":
        text = (
            f"the f_L'(z[L]) factor of BP1 is missing: delta{l} = dL/da[L] "
            f"without the {act.name} derivative"
        )
        out.append((text, lambda: g))
    if act.name == "softmax":
        text = (
            "softmax's Jacobian is taken as its diagonal, delta = g * a (1 - a); "
            "use the Jacobian product a * (g - sum(g * a)) (SM1)"
        )
        # the textbook dL/da, and Keras' renormalised one
        for g_out in (g, ref.g_keras):
            out.append((text, lambda g_out=g_out: g_out * a * (1 - a)))
    if ref.loss_name == "softmax_cross_entropy":
        scale = ref.c / (ref.n if ref.conv.reduction == "mean" else 1)
        text = (
            "the softmax is missing from the cross-entropy's delta: you have "
            "(z - y) where (softmax(z) - y) belongs (LS2)"
        )
        out.append((text, lambda: (z - ref.y) * scale))
    return out


def _hidden_delta_hypotheses(ref: Reference, i: int) -> list[Hypothesis]:
    """Alternative delta[l] (l = i + 1 < L) for the known BP2 mistakes."""
    act, l = ref.acts[i], i + 1
    if not act.elementwise:
        return []
    z, a = ref.z[i], ref.a[i + 1]
    W_next, d_next = ref.W[i + 1], ref.delta[i + 1]
    # dL/da[l]
    g = d_next @ W_next.T
    fp = act.df(z, a)
    named = act.name
    candidates = [
        (
            named != "linear",
            f"the f'(z[{l}]) factor of BP2 is missing: delta{l} = delta{l + 1} "
            f"@ W{l + 1}.T without the {named} derivative",
            lambda: g,
        ),
        (
            named != "linear",
            f"f' is evaluated at a[{l}] instead of z[{l}]: {named}'(a) "
            f"where {named}'(z) belongs",
            lambda: g * act.df(a, act.f(a)),
        ),
        (
            named == "relu",
            "relu'(0) is taken as 1 (only entries with z == 0 differ); "
            "TensorFlow and refnet use relu'(0) = 0 (AF4)",
            lambda: g * (z >= 0).astype(z.dtype),
        ),
        (
            named == "sigmoid",
            "sigmoid' is computed as z (1 - z): the formula a (1 - a) applied "
            "to z instead of to a = sigmoid(z) (AF2)",
            lambda: g * z * (1 - z),
        ),
        (
            ref.z[i + 1].shape == z.shape,
            f"the derivative of the wrong layer is used: f_{l}' evaluated at "
            f"layer {l + 1}'s z/a instead of layer {l}'s",
            lambda: g * act.df(ref.z[i + 1], ref.a[i + 2]),
        ),
        (
            W_next.shape[0] == W_next.shape[1],
            f"W{l + 1} is not transposed: delta{l + 1} @ W{l + 1} where "
            f"delta{l + 1} @ W{l + 1}.T belongs",
            lambda: (d_next @ W_next) * fp,
        ),
    ]
    out: list[Hypothesis] = [(text, f) for when, text, f in candidates if when]
    # how delta changes per unit step on W[l+1]
    H = (d_next @ ref.dW[i + 1].T) * fp
    out.append(("stale", lambda: H))
    return out


def _stale(ref: Reference, got: np.ndarray, R: np.ndarray, H: np.ndarray, name: str):
    """W[l+1] - eta dW[l+1] used in BP2: fit eta, return (text, candidate) or None."""
    hh = float(np.sum(H * H))
    if hh == 0:
        return None
    eta = float(np.sum((R - got) * H)) / hh
    if not eta > 0:
        return None
    l = _split(name)[1]
    return (
        f"delta{l} uses an updated W{l + 1} (W - eta dW with eta = {eta:.3g}): the "
        f"weights were changed before BP2 used them; compute every gradient first, "
        f"then update",
        R - eta * H,
    )


def _factor_texts(ref: Reference, what: str) -> list[tuple[float, str]]:
    """Known constant factors between the user's row and the reference, with their story."""
    from .conventions import CHOICES

    n, k, conv = ref.n, ref.k, ref.conv
    out = []
    if conv.reduction == "mean":
        out.append(
            (
                n,
                f"your {what} equals the reference times n = {n}: your cost sums over "
                f"the batch; use reduction='sum' or divide by n",
            )
        )
    else:
        out.append(
            (
                1 / n,
                f"your {what} equals the reference divided by n = {n}: your cost "
                f"averages over the batch; use reduction='mean' or drop the 1/n",
            )
        )
    c = conv.factor(ref.loss_name, k)
    for scale in CHOICES["mse_scale"]:
        if scale == conv.mse_scale:
            continue
        alt = type(conv)(**{**conv.__dict__, "mse_scale": scale}).factor(
            ref.loss_name, k
        )
        if alt != c:
            out.append(
                (
                    alt / c,
                    f"your {what} equals the reference times {alt / c:g} "
                    f"(k = {k} outputs): your per-example cost is the "
                    f"mse_scale='{scale}' form; pass mse_scale='{scale}'",
                )
            )
    out.append(
        (
            0.5,
            f"your {what} is half the reference: the 2 from differentiating the "
            f"square, d(a - y)^2/da = 2 (a - y), is missing (LS1)",
        )
    )
    out.append(
        (
            2.0,
            f"your {what} is twice the reference: a factor 2 too many (the cost "
            f"has a 1/2 your derivative ignores, or 2 l2 W counted twice)",
        )
    )
    out.append(
        (
            -1.0,
            f"your {what} has the opposite sign: dL/dtheta, not -dL/dtheta "
            f"(the minus belongs in the update w - eta dw)",
        )
    )
    return out


def _matches(name, got, candidate, rtol) -> bool:
    cand = np.asarray(candidate)
    return (
        got.shape == cand.shape
        and compare_tensor(name, got, cand.astype(got.dtype), rtol).ok
    )


def _hypotheses(ref: Reference, name: str, R: np.ndarray, carried: dict) -> list:
    """The known mistakes that could give row ``name``: (sentence, candidate value).
    A mistake made in a delta and carried into dW or db (BP4/BP3) records, in
    ``carried``, the delta's label where it is made."""
    if name == "output":
        text = f"your output is z[{ref.L}], before the activation: a[L] = f_L(z[L])"
        return [(text, lambda: ref.z[-1])]
    if name == "loss":
        if not ref.l2_eff:
            return []
        penalty = ref.l2_eff * sum(float(np.sum(W * W)) for W in ref.W)
        text = "your loss leaves out the L2 term l2 * sum(W^2) (LS6)"
        return [(text, lambda: R - penalty)]
    if name == "dX":
        if ref.W[0].shape[0] != ref.W[0].shape[1]:
            return []
        text = "W1 is not transposed: dX = delta1 @ W1 where delta1 @ W1.T belongs"
        return [(text, lambda: ref.delta[0] @ ref.W[0])]
    kind, l = _split(name)
    if kind == "dA":
        return []
    deltas = _delta_hypotheses(ref, l - 1)
    if kind == "delta":
        return deltas
    own = _dW_hypotheses(ref, l, R) if kind == "dW" else _db_hypotheses(ref, l)
    return _carried_hypotheses(ref, kind, l, deltas, carried) + own


def _carried_hypotheses(ref, kind, l, deltas, carried) -> list[Hypothesis]:
    """The delta[l] mistakes as they show in dW[l] (BP4) or db[l] (BP3)."""
    i = l - 1
    delta_lab = label(f"delta{l}", ref.loss_name, ref.L)
    hyps: list[Hypothesis] = []
    for text, delta in deltas:
        # the mistake is in delta, BP4/BP3 carry it
        carried[text] = delta_lab
        if kind == "dW" and text == "stale":
            # the change of dW per unit eta
            hyps.append((text, lambda d=delta: ref.a[i].T @ d()))
        elif kind == "dW":
            hyps.append((text, lambda d=delta: ref.dW_from(i, d())))
        else:
            hyps.append((text, lambda d=delta: d().sum(axis=0)))
    return hyps


def _dW_hypotheses(ref: Reference, l: int, R: np.ndarray) -> list[Hypothesis]:
    """The known BP4 mistakes of dW[l] itself."""
    i = l - 1
    a_prev, d = ref.a[i], ref.delta[i]
    candidates = [
        (
            i > 0,
            f"BP4 uses z[{l - 1}] where a[{l - 1}] belongs: dW{l} = "
            f"a[{l - 1}].T @ delta{l}",
            lambda: ref.dW_from(i, 0 * d) + ref.z[i - 1].T @ d,
        ),
        (
            ref.a[i + 1].shape[1] == a_prev.shape[1],
            f"BP4 uses the wrong layer's activation a[{l}] where a[{l - 1}] belongs",
            lambda: ref.dW_from(i, 0 * d) + ref.a[i + 1].T @ d,
        ),
        (
            R.shape[0] == R.shape[1],
            f"dW{l} is transposed: dW = a[l-1].T @ delta[l], not delta[l].T @ a[l-1]",
            lambda: R.T,
        ),
        (
            bool(ref.l2_eff),
            "the L2 term 2 l2 W is missing from dW (LS6)",
            lambda: R - 2 * ref.l2_eff * ref.W[i],
        ),
    ]
    return [(text, f) for when, text, f in candidates if when]


def _db_hypotheses(ref: Reference, l: int) -> list[Hypothesis]:
    """The known BP3 mistakes of db[l] itself."""
    d = ref.delta[l - 1]
    return [
        (
            f"db{l} is delta{l} of the first example only: sum delta over the batch",
            lambda: d[0],
        ),
        (
            f"db{l} is the mean over the batch of delta{l}; BP3 sums it",
            lambda: d.mean(axis=0),
        ),
    ]


def diagnose_row(ref: Reference, name: str, got: np.ndarray) -> str:
    """One sentence for the failing row ``name`` (refnet layout, user's dtype)."""
    lab = label(name, ref.loss_name, ref.L)
    R = np.asarray(ref.value(name), dtype=np.float64)
    got = np.asarray(got)
    rtol = ref.rtol
    what = name

    carried: dict[str, str] = {}  # hypothesis text -> the label where the mistake is

    def say(text, key=None):
        if key in carried:  # name where it shows, and the equation where it is made
            return sentence(
                name, carried[key], f"{text} (BP4/BP3 carry it into {name})"
            )
        return sentence(name, lab, text)

    if not np.all(np.isfinite(got)):
        return say(
            "your values contain NaN or inf (an overflow: exp of a large z, "
            "log(0), or a division by zero)"
        )
    if got.shape != R.shape:
        return say(f"your {what} has shape {got.shape}, expected {R.shape}")
    hyps = _hypotheses(ref, name, R, carried)
    for text, make in hyps:
        cand = np.asarray(make(), dtype=np.float64)
        if text == "stale":
            found = _stale(ref, got.astype(np.float64), R, cand, name)
            if found and _matches(name, got, found[1], rtol):
                return say(found[0], text)
            continue
        if _matches(name, R, cand, rtol):
            continue  # indistinguishable from the reference on this data
        if _matches(name, got, cand, rtol):
            return say(text, text)
    for factor, text in _factor_texts(ref, what):
        if _matches(name, got, factor * R, rtol):
            return say(text)
    rr = float(np.sum(R * R))
    if rr > 0:
        s = float(np.sum(got * R)) / rr
        if _matches(name, got, s * R, rtol):
            return say(
                f"your {what} equals the reference times {s:.7g}, a constant "
                f"factor no known mistake or convention explains"
            )
    err = float(np.max(np.abs(got - R)))
    scale = float(np.max(np.abs(R))) or 1.0
    return say(
        f"your {what} differs from the reference by up to {err:.3g} "
        f"({err / scale:.2g} of its largest entry) with no pattern crosscheck "
        f"recognises; compare it entry by entry with the reference"
    )
