"""Say in words what is wrong with a backprop, by testing hypotheses against the reference.

When a row of :func:`crosscheck.check_backprop` fails, the reference (refnet's quantities,
in the user's cost) is *transformed* by each known mistake, and the transformed value is
compared with what the user returned under the same tolerance (TOL1). A hypothesis that
reproduces the user's numbers is the diagnosis; nothing is guessed from the size of an
error alone. The hypotheses, by row:

    every row     a constant factor: n (batch summed, not averaged), 1/n, the factor
                  between two conventions (k, k/2, ...), 2 or 1/2 (LS1's 2), -1 (sign),
                  any other whole number or its inverse ("4 times": the user's own
                  constant), any other constant
    delta[L]      f_L' missing; f_L' evaluated at a instead of z; a derivative written
    (BP1)         in a evaluated at z (sigmoid' as z (1 - z), tanh' as 1 - z^2, elu' as
                  z + 1: A_FORMS); softmax's Jacobian taken as its diagonal a (1 - a)
                  (SM1); softmax cross-entropy's delta without the softmax (z - y) / n (LS2);
                  the z/a mix-ups also for a sigmoid output fused into its cross-entropy
                  (dL/da * f'(z) written out, as deeplearning.ai's sigmoid_backward does)
    delta[l]      f_l' missing; f' evaluated at a instead of z; a derivative written in
    (BP2)         a evaluated at z (A_FORMS); relu'(0) = 1; f_l' of the layer above;
                  W[l+1] not transposed; a stale W[l+1] (updated before it was used,
                  W - eta dW)
    dW[l] (BP4)   every delta hypothesis carried into dW; z[l-1] for a[l-1]; a[l] for
                  a[l-1]; the transpose delta.T @ a; the L2 term missing (LS6)
    db[l] (BP3)   every delta hypothesis carried into db; the first row of delta, or the
                  mean over rows, instead of the sum
    loss          the L2 term missing (LS6)
    output        z[L] for a[L] (FP2)

Every row the user returned counts, not only the failing one (``matched``: the rows
that matched). A constant factor is a convention's (reduction, mse_scale) only when
nothing rules that out: a matching loss shows the cost is right, so a factor n in layer
L's rows is the 1/n of the mean missing from delta[L] (CS231n's ``dscores /= N``, BP1);
a matching row of the same layer puts the factor in the line that computes the failing
row (db2 without the /n that dW2 has); a matching row of the layer above, at this layer.

Each sentence names the quantity, its equation label and the chapter (number and title)
that derives it: ``delta2 (BP1, chapter 6 "Backpropagation"): ...``. Every sentence comes
from the message catalog (crosscheck/messages/), in the language check_backprop was
given (``lang=``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace

import numpy as np

from ..messages import msg
from ..tolerance import compare_tensor
from .reference import Reference, _split

# The chapters a sentence cites, by number: (file stem, title as its "# N. Title"
# heading has it; tests/crosscheck/mine/test_diagnose.py checks both), and the chapter
# that defines each label. A pip-installed user has no docs/ folder: sentences cite the
# chapter's number and title, and its site page once the site has a URL (SITE_URL,
# mkdocs.yml's site_url; pages are STEM.html, as use_directory_urls is false).
CHAPTERS = {
    1: ("01-notation", "Notation and shapes"),
    4: ("04-activations", "Activations and their derivatives"),
    5: ("05-losses", "Losses"),
    6: ("06-backprop", "Backpropagation"),
    10: ("10-check-your-own", "Check your own backprop"),
}
LABEL_CHAPTERS = {
    "FP1-FP2": 1,
    "BP1": 6,
    "BP2": 6,
    "BP3": 6,
    "BP4": 6,
    "BP5": 10,
    "LS1": 5,
    "LS2": 5,
    "LS3": 5,
    "LS4": 5,
    "LS5": 10,
    "LS6": 10,
    "SM1": 5,
}
SECTIONS = {"BP5": "What refnet adds for it"}
# the catalog's ids of the chapter titles and sections (English: the titles above)
TITLE_IDS = {
    1: "chapter.notation",
    4: "chapter.activations",
    5: "chapter.losses",
    6: "chapter.backprop",
    10: "chapter.check_your_own",
}
SECTION_IDS = {"BP5": "section.bp5"}
SITE_URL: str | None = None
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


def cite(lab: str) -> str:
    """Where label ``lab`` is derived: 'chapter 6 "Backpropagation"' (and the site page)."""
    number = LABEL_CHAPTERS.get(lab, 10)
    stem = CHAPTERS[number][0]
    where = msg("cite.chapter", number=number, title=msg(TITLE_IDS[number]))
    if lab in SECTIONS:
        where += msg("cite.section", section=msg(SECTION_IDS[lab]))
    if SITE_URL:
        where += msg("cite.site", url=f"{SITE_URL.rstrip('/')}/{stem}.html")
    return where


def sentence(name: str, lab: str, text: str) -> str:
    """``name (label, chapter N "Title"): text``: the label first, then where it is derived."""
    return msg("cite.sentence", name=name, label=lab, where=cite(lab), text=text)


# ---------------------------------------------------------------------------------
# Hypotheses: (text, value the row would have under that mistake)
# ---------------------------------------------------------------------------------

Hypothesis = tuple[str, Callable[[], np.ndarray]]


# Derivatives refnet writes in terms of a = f(z) (refnet/activations.py's df(z, a), as
# TensorFlow computes them), and the same formula given z instead, by hand:
#     activation   f'(z) in terms of a      the formula given z
#     sigmoid      a (1 - a)                z (1 - z)                       (AF2)
#     tanh         1 - a^2                  1 - z^2                         (AF3)
#     elu          a + 1 for z <= 0         z + 1 for z <= 0 (1 for z > 0)  (AF6)
# The other direction, a formula in z given a, is f'(a) for every activation.
A_FORMS = {
    "sigmoid": ("a (1 - a)", "z (1 - z)", "AF2", lambda z: z * (1 - z)),
    "tanh": ("1 - a^2", "1 - z^2", "AF3", lambda z: 1 - z * z),
    "elu": ("a + 1", "diag.elu_at_z", "AF6", lambda z: np.where(z > 0, 1.0, z + 1)),
}
# (elu's "z + 1 for z <= 0" holds words: it is the catalog's, by its id)


def _mixups(act, l: int, z, a, g) -> list[Hypothesis]:
    """delta[l] with f_l' written for a given z, or written for z given a (BP1, BP2)."""
    if act.name == "linear":
        return []
    named = act.name
    text = msg("diag.mixup_at_a", l=l, act=named)
    out: list[Hypothesis] = [(text, lambda: g * act.df(a, act.f(a)))]
    if named in A_FORMS:
        in_a, at_z, af, fp = A_FORMS[named]
        at_z = msg(at_z) if at_z.startswith("diag.") else at_z
        text = msg("diag.mixup_a_form", act=named, at_z=at_z, in_a=in_a, af=af)
        out.append((text, lambda: g * fp(z)))
    return out


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
        text = msg("diag.bp1_no_fprime", l=l, act=act.name)
        out.append((text, lambda: g))
    if act.elementwise:
        out += _mixups(act, l, z, a, g)
    if ref.prob is not None and ref.prob.elementwise:
        # a sigmoid output fused into its cross-entropy: the user's own chain rule
        # dL/da * f'(z) may still mix up z and a
        out += _mixups(ref.prob, l, z, a, ref.dA_out)
    if act.name == "softmax":
        text = msg("diag.softmax_diagonal")
        # the textbook dL/da, and Keras' renormalised one
        for g_out in (g, ref.g_keras):
            out.append((text, lambda g_out=g_out: g_out * a * (1 - a)))
    if ref.loss_name == "softmax_cross_entropy":
        scale = ref.c / (ref.n if ref.conv.reduction == "mean" else 1)
        text = msg("diag.ls2_no_softmax")
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
            msg("diag.bp2_no_fprime", l=l, up=l + 1, act=named),
            lambda: g,
        ),
        (
            named == "relu",
            msg("diag.relu_at_0"),
            lambda: g * (z >= 0).astype(z.dtype),
        ),
        (
            ref.z[i + 1].shape == z.shape,
            msg("diag.wrong_layer_fprime", l=l, up=l + 1),
            lambda: g * act.df(ref.z[i + 1], ref.a[i + 2]),
        ),
        (
            W_next.shape[0] == W_next.shape[1],
            msg("diag.W_not_transposed", up=l + 1),
            lambda: (d_next @ W_next) * fp,
        ),
    ]
    out: list[Hypothesis] = [(text, f) for when, text, f in candidates if when]
    out[1:1] = _mixups(act, l, z, a, g)
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
    return msg("diag.stale_W", l=l, up=l + 1, eta=eta), R - eta * H


# The rows computed from the same delta[l] as a row of that kind (its siblings); dA[l] =
# delta[l+1] @ W[l+1].T is computed before delta[l], so for dW, db it is upstream.
_SIBLINGS = {
    "delta": ("dA", "dW", "db"),
    "dW": ("delta", "db"),
    "db": ("delta", "dW"),
    "dA": (),
}


def _where(name: str, L: int, matched) -> tuple[str, str]:
    """Where a constant factor in row ``name`` enters, told by the rows that matched:
    ("own", row) when a row from the same delta matched (the factor is in the line that
    computes ``name``), ("layer", row) when a row upstream matched (it enters at this
    layer), ("output", "") for layer L's rows with neither, ("", "") otherwise."""
    if name in ("loss", "output", "dX"):
        return "", ""
    kind, l = _split(name)
    for other in _SIBLINGS.get(kind, ()):
        if f"{other}{l}" in matched:
            return "own", f"{other}{l}"
    upstream = [f"dA{l}"] if kind in ("dW", "db") else []
    for m in range(l + 1, L + 1):
        upstream += [f"{other}{m}" for other in ("dA", "delta", "dW", "db")]
    for row in upstream:
        if row in matched:
            return "layer", row
    return ("output", "") if l == L else ("", "")


def _located(what: str, where: tuple[str, str]) -> str:
    """'; db2 matched, so ...': where the factor is, when the rows that matched say."""
    kind, row = where
    if kind == "own":
        return msg("diag.located_own", row=row, what=what)
    if kind == "layer":
        return msg("diag.located_layer", row=row, l=_split(what)[1])
    return ""


def _place(what: str, where: tuple[str, str]) -> str:
    """Where a factor found "own" or "layer" by :func:`_where` is made."""
    if where[0] == "own":
        return msg("diag.place_own", what=what)
    return msg("diag.place_layer", l=_split(what)[1])


def _reduction_text(ref: Reference, what: str, where, loss_ok: bool):
    """(factor, text, label where it is made) for the batch's n: the convention's
    reduction when nothing rules it out; else a 1/n missing from (or added to) the
    derivative, since a matching loss or gradient row shows the cost is right (LS5)."""
    n, L, (kind, row) = ref.n, ref.L, where
    if ref.conv.reduction == "mean":
        size = msg("diag.size_times_n", n=n)
        if kind in ("own", "layer"):
            place = _place(what, where)
            text = msg(
                "diag.mean_missing_in", what=what, size=size, row=row, place=place
            )
            return n, text, None
        if loss_ok:
            # each course's name for the line that divides
            line = {"cs231n": " (dscores /= N)", "nnfs": " (dinputs / samples)"}
            text = msg(
                "diag.mean_missing_in_delta",
                what=what,
                size=size,
                L=L,
                line=line.get(ref.conv.name, ""),
            )
            return n, text, "BP1"
        return n, msg("diag.cost_sums", what=what, n=n), None
    size = msg("diag.size_divided_by_n", n=n)
    if kind in ("own", "layer"):
        place = _place(what, where)
        text = msg("diag.extra_1_over_n_in", what=what, size=size, row=row, place=place)
        return 1 / n, text, None
    if loss_ok:
        text = msg("diag.extra_1_over_n_in_delta", what=what, size=size, L=L)
        return 1 / n, text, "BP1"
    return 1 / n, msg("diag.cost_averages", what=what, n=n), None


def _scale_texts(ref: Reference, what: str, where, loss_ok: bool) -> list:
    """(factor, text, label) for the factors between two mse_scale forms (k, k/2, ...):
    a convention when nothing rules it out, else a derivative of the other form."""
    from .conventions import CHOICES

    k, L, conv = ref.k, ref.L, ref.conv
    c = conv.factor(ref.loss_name, k)
    out = []
    for scale in CHOICES["mse_scale"]:
        alt = replace(conv, mse_scale=scale).factor(ref.loss_name, k)
        if scale == conv.mse_scale or alt == c:
            continue
        size = msg("diag.scale_size", what=what, factor=alt / c, k=k)
        if where[0] in ("own", "layer"):
            place = _place(what, where)
            text = msg("diag.scale_in", size=size, row=where[1], place=place)
            out.append((alt / c, text, None))
        elif loss_ok:
            text = msg(
                "diag.scale_in_delta",
                size=size,
                ours=conv.mse_scale,
                scale=scale,
                L=L,
            )
            out.append((alt / c, text, "BP1"))
        else:
            text = msg("diag.scale_convention", size=size, scale=scale)
            out.append((alt / c, text, None))
    return out


def _factor_texts(ref: Reference, what: str, where, loss_ok: bool) -> list:
    """Known constant factors between the user's row and the reference, with their
    story: (factor, text, the label where the mistake is made, or None for the row's)."""
    out = [_reduction_text(ref, what, where, loss_ok)]
    out += _scale_texts(ref, what, where, loss_ok)
    at = _located(what, where)
    out.append((0.5, msg("diag.half", what=what, at=at), None))
    out.append((2.0, msg("diag.twice", what=what, at=at), None))
    out.append((-1.0, msg("diag.sign", what=what, at=at), None))
    return out


def _constant_text(what: str, got, R, rtol, at: str) -> str | None:
    """A constant factor s with got = s R, or None: "4 times" or "1/4 of" when s is a
    whole number or its inverse (the user's own constant, as 4/m where 1/m belongs),
    else s with its digits."""
    rr = float(np.sum(R * R))
    if rr == 0:
        return None
    s = float(np.sum(got * R)) / rr
    # whole numbers from 2 up (1 and -1 would be the reference, or its sign)
    if 0 < abs(s) <= 0.5 and _matches(what, got, R / round(1 / s), rtol):
        q = round(1 / s)
        if q > 0:
            return msg("diag.constant_inverse", what=what, q=q, at=at)
        return msg("diag.constant_negative_inverse", what=what, q=-q, at=at)
    if abs(s) >= 1.5 and _matches(what, got, round(s) * R, rtol):
        return msg("diag.constant_whole", what=what, s=round(s), at=at)
    if _matches(what, got, s * R, rtol):
        return msg("diag.constant_any", what=what, s=s, at=at)
    return None


def _l2_terms(ref: Reference) -> tuple[str, str]:
    """The decay's term in the cost and in dW as the user's l2_form writes them."""
    if ref.conv.l2_form == "half_sum":
        return "l2/2 * sum(W^2)", "l2 * W"
    return "l2 * sum(W^2)", "2 l2 W"


def _l2_part(ref: Reference, name: str):
    """The L2 term (LS6) inside row ``name``'s reference: l2_eff sum W^2 in the loss,
    2 l2_eff W in dW; 0 elsewhere."""
    if not ref.l2_eff:
        return 0.0
    if name == "loss":
        return ref.l2_eff * sum(float(np.sum(W * W)) for W in ref.W)
    kind, l = (None, 0) if name in ("output", "dX") else _split(name)
    return 2 * ref.l2_eff * ref.W[l - 1] if kind == "dW" else 0.0


def _l2_total(ref: Reference, name: str, got, R, rtol) -> float | None:
    """The user's own decay factor (of sum(W^2) in the cost) that explains row
    ``name`` when the check was given another one (or none): got = R + 2 c W in dW, or
    R + c sum(W^2) in the loss, with l2_eff + c > 0; None when none does. A scalar loss
    always has one: only dW rows can confirm it."""
    if name == "loss":
        shape = np.float64(sum(float(np.sum(W * W)) for W in ref.W))
    elif name.startswith("dW"):
        shape = 2 * ref.W[_split(name)[1] - 1]
    else:
        return None
    ss = float(np.sum(shape * shape))
    c = float(np.sum((got - R) * shape)) / ss if ss else 0.0
    total = ref.l2_eff + c
    if total > 0 and c != 0 and _matches(name, got, R + c * shape, rtol):
        return total
    return None


def _decay_text(ref: Reference, name: str, total: float) -> str:
    told = f"l2_eff = {ref.l2_eff:.4g}" if ref.l2_eff else msg("diag.no_decay")
    # a grader's rubric fixes the decay: then the code is wrong, not the check's flags
    if ref.l2_eff:
        which = msg("diag.decay_if_assigned", l2=ref.l2_eff, ratio=total / ref.l2_eff)
    else:
        which = msg("diag.decay_if_asked")
    return msg(
        "diag.decay_in_code",
        name=name,
        total=total,
        told=told,
        which=which,
        twice=2 * total,
    )


def _l2_in_code(ref: Reference, name: str, got, R, rtol) -> str | None:
    """The decay sentence for a dW row that a decay of the user's own explains."""
    total = _l2_total(ref, name, got, R, rtol) if name.startswith("dW") else None
    return None if total is None else _decay_text(ref, name, total)


def decay_in_code(ref: Reference, rows: dict) -> str | None:
    """For a failing loss row: the decay of the user's own that the loss and every dW
    row returned agree on, as a sentence naming the loss; None when they do not."""
    totals = []
    for name, got in rows.items():
        if name == "loss" or name.startswith("dW"):
            R = np.asarray(ref.value(name), dtype=np.float64)
            totals.append(
                _l2_total(ref, name, np.asarray(got, np.float64), R, ref.rtol)
            )
    if len(totals) < 2 or None in totals or "loss" not in rows:
        return None
    if max(totals) - min(totals) > 1e-6 * max(totals):
        return None
    return sentence(
        "loss", label("loss", ref.loss_name, ref.L), _decay_text(ref, "loss", totals[0])
    )


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
        text = msg("diag.output_is_z", L=ref.L)
        return [(text, lambda: ref.z[-1])]
    if name == "loss":
        if not ref.l2_eff:
            return []
        penalty = _l2_part(ref, "loss")
        text = msg("diag.loss_without_l2", term=_l2_terms(ref)[0])
        return [(text, lambda: R - penalty)]
    if name == "dX":
        if ref.W[0].shape[0] != ref.W[0].shape[1]:
            return []
        text = msg("diag.W1_not_transposed")
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
            msg("diag.bp4_z_for_a", k=l - 1, l=l),
            lambda: ref.dW_from(i, 0 * d) + ref.z[i - 1].T @ d,
        ),
        (
            ref.a[i + 1].shape[1] == a_prev.shape[1],
            msg("diag.bp4_wrong_a", k=l - 1, l=l),
            lambda: ref.dW_from(i, 0 * d) + ref.a[i + 1].T @ d,
        ),
        (
            R.shape[0] == R.shape[1],
            msg("diag.dW_transposed", l=l),
            lambda: R.T,
        ),
        (
            bool(ref.l2_eff),
            msg("diag.dW_without_l2", term=_l2_terms(ref)[1]),
            lambda: R - 2 * ref.l2_eff * ref.W[i],
        ),
    ]
    return [(text, f) for when, text, f in candidates if when]


def _db_hypotheses(ref: Reference, l: int) -> list[Hypothesis]:
    """The known BP3 mistakes of db[l] itself."""
    d = ref.delta[l - 1]
    return [
        (msg("diag.db_first_example", l=l), lambda: d[0]),
        (msg("diag.db_mean", l=l), lambda: d.mean(axis=0)),
    ]


def diagnose_row(
    ref: Reference, name: str, got: np.ndarray, matched: Collection[str] = ()
) -> str:
    """One sentence for the failing row ``name`` (refnet layout, user's dtype).

    ``matched`` names the rows of the same check that matched the reference: a matching
    loss rules out a convention's factor (the cost is right, the derivative is not), and
    a matching row of the same layer puts a factor in the line that computes ``name``.
    """
    lab = label(name, ref.loss_name, ref.L)
    R = np.asarray(ref.value(name), dtype=np.float64)
    got = np.asarray(got)
    rtol = ref.rtol
    what = name

    carried: dict[str, str] = {}  # hypothesis text -> the label where the mistake is

    def say(text, key=None):
        if key in carried:  # name where it shows, and the equation where it is made
            return sentence(
                name, carried[key], msg("diag.carried", text=text, name=name)
            )
        return sentence(name, lab, text)

    if not np.all(np.isfinite(got)):
        return say(msg("diag.nonfinite"))
    if got.shape != R.shape:
        return say(msg("diag.shape", what=what, got=got.shape, want=R.shape))
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
    where = _where(name, ref.L, matched)
    # a factor scales the data part of the row; the L2 term (LS6) stays as it is
    P = _l2_part(ref, name)
    for factor, text, lab_at in _factor_texts(ref, what, where, "loss" in matched):
        if _matches(name, got, factor * (R - P) + P, rtol):
            if lab_at and lab_at != lab:
                carried[text] = lab_at  # made in delta[L], shows in dW or db
            return say(text, text)
    text = _constant_text(name, got - P, R - P, rtol, _located(what, where))
    text = text or _l2_in_code(ref, name, got, R, rtol)
    if text:
        return say(text)
    err = float(np.max(np.abs(got - R)))
    scale = float(np.max(np.abs(R))) or 1.0
    return say(msg("diag.no_pattern", what=what, err=err, rel=err / scale))
