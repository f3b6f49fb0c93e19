"""check_backprop: is *your* backprop right, and if not, where and why?

``fn(weights, X, Y)`` is your code, in your convention (crosscheck/mine/conventions.py):
``weights`` is [W1, b1, W2, b2, ...], ``X`` and ``Y`` one batch. It returns the gradients
in the same structure, or a dict with ``"grads"`` and optionally ``"loss"``, ``"deltas"``
(one dL/dz per layer, first layer first), ``"output"`` (a[L]) and ``"dX"``; ``grads`` may
also be a dict keyed ``W1``/``b1``... or ``dW1``/``db1``..., and CS231n's ``(loss,
grads)`` pair is accepted as is.

Everything returned is compared with refnet's own backprop (the reference, converted to
your convention exactly: transposes and the constant factors of your cost), in backprop
order: loss, output, then delta, dW, db from the last layer down, so the first failing
row is where the bug is. The failing row is then explained by testing hypotheses
(crosscheck/mine/diagnose.py). When TensorFlow is installed, refnet itself is checked against
TensorFlow on the same network and batch, in the same report.

>>> import numpy as np
>>> def mine(weights, X, Y):      # keras convention: rows, W (n_in, n_out), mean MSE
...     W1, b1 = weights
...     a = X @ W1 + b1
...     delta = 2 * (a - Y) / a.size
...     return [X.T @ delta, delta.sum(axis=0)]
>>> report = check_backprop(mine, [3, 2], "linear", "mse", tensorflow=False)
>>> report.ok
True
"""

from __future__ import annotations

import math
import re
import traceback
from dataclasses import dataclass, field

import numpy as np

import refnet
from refnet.files import check_memory
from refnet.validation import check_bool, check_dtype, check_size, check_sizes

from ..frameworks import framework, installed, wanted_names
from ..kinks import (
    KINK_REDRAWS,
    describe_entries,
    near_kink_entries,
    near_kinks,
    with_kinks_flipped,
)
from ..messages import check_lang, current, language, msg
from ..report import Report, Row
from ..tolerance import compare_tensor
from . import conventions
from .diagnose import decay_in_code, diagnose_row, label, sentence
from .reference import reference
from .returned import BadOutput, read, to_rows


@dataclass
class BackpropReport(Report):
    """The rows of one check_backprop, the diagnosis, and refnet's own check against TF.

    ``ok`` when every row matches, ``fn`` ran and returned readable gradients, and (when
    TensorFlow was used) refnet matched TensorFlow.
    """

    diagnosis: list[str] = field(default_factory=list)
    reference: Report | None = None  # refnet against TensorFlow, same network and batch
    error: str | None = None
    # every failing row's own sentence, as if it failed first (the grader explains a
    # lost point at a row no earlier failure feeds with it)
    explained: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        tf_ok = self.reference is None or self.reference.ok
        return self.error is None and bool(self.rows) and super().ok and tf_ok

    def __str__(self) -> str:
        if self.error is not None:
            body = [self.title, "ERROR: " + self.error]
        else:
            body = [super().__str__()]
        with language(self.lang):
            head = msg("check.diagnosis_head")
        body += ["", head] + [f"- {s}" for s in self.diagnosis]
        return "\n".join(body)

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.update(ok=self.ok, diagnosis=self.diagnosis, error=self.error)
        out["reference"] = None if self.reference is None else self.reference.to_dict()
        return out


# ---------------------------------------------------------------------------------
# Setting up the case: network, weights, batch, in refnet's layout and in the user's
# ---------------------------------------------------------------------------------


def _activations(activations, n_layers: int) -> list[str]:
    if isinstance(activations, str):
        acts = [activations] * n_layers
    elif isinstance(activations, (list, tuple)):
        acts = list(activations)
    else:
        raise TypeError(
            f"activations: expected a name or a list of {n_layers} names, "
            f"got {type(activations).__name__}"
        )
    if len(acts) != n_layers:
        raise ValueError(
            f"activations: expected {n_layers} names (one per layer), got {len(acts)}: {acts}"
        )
    for name in acts:
        try:
            refnet.activations.get(name)
        except (TypeError, ValueError) as err:  # naming the valid ones
            raise type(err)(f"activations: {err}") from None
    return acts


def _user_weights(weights, conv, sizes) -> dict[str, np.ndarray]:
    """The user's weights (a list in the order W1, b1, ..., or a dict keyed so) checked
    against the convention's shapes: {"W1": array, ...}."""
    shapes = conv.weight_shapes(sizes)
    names = list(shapes)
    if isinstance(weights, dict):
        missing = [k for k in names if k not in weights]
        if missing:
            raise ValueError(
                f"weights: a dict needs the keys {names}, missing {missing}"
            )
        weights = [weights[k] for k in names]
    if not isinstance(weights, (list, tuple)) or len(weights) != len(names):
        got = (
            len(weights)
            if isinstance(weights, (list, tuple))
            else type(weights).__name__
        )
        raise ValueError(
            f"weights: expected a list of {len(names)} arrays [{', '.join(names)}] or "
            f"a dict keyed so, got {got}"
        )
    out = {}
    for i, (name, w) in enumerate(zip(names, weights)):
        w = np.asarray(w)
        if w.shape != shapes[name]:
            raise ValueError(
                f"weights[{i}] ({name}): expected shape {shapes[name]} in the "
                f"{conv.name} convention, got {w.shape}"
            )
        out[name] = w
    return out


def _batch(conv, sizes, X, Y, loss, batch, rng):
    """(X_rows, Y_rows_for_refnet, X_user, Y_user): drawn from rng, or the user's converted."""
    n0 = sizes[0]
    if X is None:
        X_rows = rng.normal(size=(batch, n0))
        X_user = conv.batch_to_user(X_rows)
    else:
        X_user = np.asarray(X)
        if X_user.ndim != 2 or X_user.shape[conv.samples == "rows"] != n0:
            want = conv.batch_shape("n", n0)
            raise ValueError(
                f"X: expected shape {want} in the {conv.name} convention, got {X_user.shape}"
            )
        X_rows = conv.batch_from_user(X_user)
    n, k = X_rows.shape[0], sizes[-1]
    if Y is None:
        Y_rows, Y_user = _draw_targets(conv, k, loss, n, rng)
    else:
        Y_rows, Y_user = _user_targets(conv, k, loss, n, Y)
    return X_rows, Y_rows, X_user, Y_user


def _draw_targets(conv, k: int, loss: str, n: int, rng):
    """(Y_rows for refnet, Y_user): targets drawn for the loss, in the convention."""
    if loss == "mse":
        Y_rows = rng.normal(size=(n, k))
    elif loss == "binary_cross_entropy":
        Y_rows = rng.uniform(size=(n, k))
    else:
        ids = rng.integers(0, k, size=n)
        if conv.labels == "int":
            return ids, ids
        # one-hot rows
        Y_rows = np.eye(k)[ids]
    return Y_rows, conv.batch_to_user(Y_rows)


def _user_targets(conv, k: int, loss: str, n: int, Y):
    """(Y_rows for refnet, Y_user): the user's Y checked against the convention."""
    Y_user = np.asarray(Y)
    classes = loss in ("softmax_cross_entropy", "categorical_cross_entropy")
    if conv.labels == "int" and classes and Y_user.shape != (n,):
        raise ValueError(
            f"Y: expected class ids of shape ({n},) (labels='int'), got shape "
            f"{Y_user.shape}; pass labels='onehot' for one-hot targets"
        )
    if Y_user.ndim == 1 and classes:
        # class ids, the same in every convention
        return Y_user, Y_user
    if Y_user.shape != conv.batch_shape(n, k):
        raise ValueError(
            f"Y: expected shape {conv.batch_shape(n, k)} in the {conv.name} convention, "
            f"got {Y_user.shape}"
        )
    return conv.batch_from_user(Y_user), Y_user


# ---------------------------------------------------------------------------------
# check_backprop
# ---------------------------------------------------------------------------------


def check_backprop(
    fn,
    sizes,
    activations,
    loss,
    *,
    convention="keras",
    weights=None,
    X=None,
    Y=None,
    dtype="float64",
    batch: int = 8,
    seed: int = 0,
    tensorflow: bool | None = None,
    oracle=None,
    lang=None,
    **overrides,
) -> BackpropReport:
    """Check ``fn(weights, X, Y)``'s gradients against refnet's, in ``fn``'s convention.

    Parameters
    ----------
    fn : callable
        Your backprop; see the module docstring for what it returns.
    sizes : list of int or "784-30-10"
        The layout [n_0, ..., n_L].
    activations : str or list of str
        One refnet activation name per layer, or one for all. A sigmoid (softmax) output
        with binary (softmax) cross-entropy means probabilities out, as Nielsen writes it;
        delta[L] = dL/dz[L] is the same either way.
    loss : str
        "mse", "softmax_cross_entropy", "categorical_cross_entropy" or
        "binary_cross_entropy"; its exact form in your convention is in
        crosscheck/mine/conventions.py.
    convention : "keras", "nielsen" or "cs231n"
        The preset; ``overrides`` (samples, weights_layout, bias_shape, reduction,
        mse_scale, l2, l2_form) change single axes.
    weights, X, Y : arrays in your convention, optional
        A specific case; by default drawn from ``seed`` (weights glorot-uniform).
    dtype : "float64" or "float32"
        Of the weights and batch given to ``fn``; its results must keep it.
    batch, seed : int
    tensorflow : bool or None
        Also check refnet itself against the frameworks, on the same network and batch
        (None: when one is installed; the name is older than the other frameworks).
    oracle : None, str or tuple of str
        Which frameworks, as ``crosscheck.compare`` takes it: "tf", "torch", "jax" or a
        tuple of them; None: every installed one.
    lang : None, "en" or "zh"
        The language of the diagnosis and the verdict lines (crosscheck/messages/):
        None is English, whatever the environment's LANG (the command lines follow
        it). The table's headers, row names, equation labels and numbers are the same
        in every language.

    Returns
    -------
    BackpropReport
        ``ok``, ``rows`` (loss, output, then delta, dW, db from layer L down),
        ``diagnosis`` (sentences naming quantity, equation label and docs section),
        ``reference`` (refnet against every framework in one report, or None).
    """
    if not callable(fn):
        raise TypeError(
            f"fn: expected a function fn(weights, X, Y), got {type(fn).__name__}"
        )
    if tensorflow is not None:
        tensorflow = check_bool(tensorflow, "tensorflow")
    wanted_names(oracle)  # a bad oracle is named before fn runs
    lang = check_lang(lang)
    with language(lang):
        report = _check(
            fn,
            sizes,
            activations,
            loss,
            convention,
            weights,
            X,
            Y,
            dtype,
            batch,
            seed,
            tensorflow,
            oracle,
            overrides,
        )
    report.lang = lang
    if report.reference is not None:
        report.reference.lang = lang
    return report


def _check(
    fn,
    sizes,
    activations,
    loss,
    convention,
    weights,
    X,
    Y,
    dtype,
    batch,
    seed,
    tensorflow,
    oracle,
    overrides,
) -> BackpropReport:
    """check_backprop, its arguments checked, in the current language."""
    case = _setup(
        sizes,
        activations,
        loss,
        convention,
        overrides,
        weights,
        X,
        Y,
        dtype,
        batch,
        seed,
    )
    ref = reference(case.net, case.conv, case.X_rows, case.Y_rows, case.loss, case.prob)
    conv_text = case.conv.describe()
    title = (
        f"check_backprop {getattr(fn, '__name__', 'fn')} {'-'.join(map(str, case.sizes))} "
        f"[{','.join(case.acts)}] {case.loss} {case.dtype.name} batch {case.n}; "
        f"convention {conv_text}"
    )
    w_user = _weights_given(case, weights)
    named = w_user if isinstance(w_user, dict) else dict(zip(case.names, w_user))
    given = {**named, "X": case.X_user, "Y": case.Y_user}
    saved = {key: np.array(a, copy=True) for key, a in given.items()}
    shapes = {key: tuple(w.shape) for key, w in named.items()}
    what = msg(
        "check.what",
        container=type(w_user).__name__,
        shapes=shapes,
        X=tuple(np.shape(case.X_user)),
        Y=tuple(np.shape(case.Y_user)),
        convention=conv_text,
    )
    got = _call_user(fn, w_user, case, title, what)
    if isinstance(got, BackpropReport):  # fn raised, or returned something unreadable
        return got
    rows, messages = _rows(got, ref, case.conv, case.sizes, case.n)
    pinned = ""
    if case.kinks and not all(r.ok for r in rows):
        ref, rows, messages, pinned = _pin_kinks(case, ref, got, rows, messages)
    report = BackpropReport(title, rows, [])
    report.diagnosis += _diagnosis(report, got, ref, messages, case, pinned)
    matched = {r.name for r in rows if r.ok}
    report.explained = {
        r.name: _first_failure(r, got, ref, messages, case, matched)
        for r in rows
        if not r.ok
    }
    report.diagnosis += got["_notes"]
    report.diagnosis += _changed_in_place(saved, given)
    if tensorflow is None:
        tensorflow = bool(installed()) if oracle is None else True
    if tensorflow:
        report.reference = _against_oracles(
            case.net, case.conv, case.X_rows, case.Y_rows, case.loss, ref, oracle
        )
        report.diagnosis.append(reference_sentence(report.reference))
    return report


def case_inputs(
    sizes,
    activations,
    loss,
    *,
    convention="keras",
    weights=None,
    X=None,
    Y=None,
    dtype="float64",
    batch: int = 8,
    seed: int = 0,
    **overrides,
):
    """The arguments check_backprop hands ``fn`` for these arguments: (weights, X, Y) in
    the convention, fresh arrays; ``check_backprop(fn, <the same arguments>)`` calls
    ``fn`` with equal ones. The grader (crosscheck/grading/) sends them to a student's
    child process and replays what comes back into check_backprop."""
    case = _setup(
        sizes,
        activations,
        loss,
        convention,
        overrides,
        weights,
        X,
        Y,
        dtype,
        batch,
        seed,
    )
    return _weights_given(case, weights), case.X_user, case.Y_user


def reference_check(
    sizes,
    activations,
    loss,
    *,
    convention="keras",
    weights=None,
    X=None,
    Y=None,
    dtype="float64",
    batch: int = 8,
    seed: int = 0,
    oracle=None,
    **overrides,
) -> Report:
    """refnet against the frameworks (``oracle`` as compare's: None, every installed
    one) on the network and batch that ``check_backprop`` with the same arguments
    checks (no user function runs): what ``crosscheck mine`` runs once, in its own
    process, for all the files."""
    case = _setup(
        sizes,
        activations,
        loss,
        convention,
        overrides,
        weights,
        X,
        Y,
        dtype,
        batch,
        seed,
    )
    ref = reference(case.net, case.conv, case.X_rows, case.Y_rows, case.loss, case.prob)
    return _against_oracles(
        case.net, case.conv, case.X_rows, case.Y_rows, case.loss, ref, oracle
    )


@dataclass
class _Case:
    """What check_backprop checks: the convention, the reference network and the batch,
    in refnet's rows and in the user's layout."""

    conv: object
    sizes: list
    acts: list
    loss: str
    dtype: np.dtype
    net: refnet.Network
    prob: object  # the probability output fused into its cross-entropy, or None
    X_rows: np.ndarray
    Y_rows: np.ndarray
    X_user: np.ndarray
    Y_user: np.ndarray
    kinks: str  # near_kinks of the batch ("" when none)

    @property
    def n(self) -> int:
        return self.X_rows.shape[0]

    @property
    def names(self) -> list[str]:
        """The weights' names in the user's convention: W1, b1, ... (no b without bias)."""
        return self.conv.weight_names(len(self.sizes) - 1)


def _weights_given(case: _Case, weights):
    """The weights handed to fn, in its container, as fresh arrays of the check's dtype:
    the network's drawn ones, or copies of the user's own."""
    if weights is None:
        user = case.conv.weights_to_user(case.net.get_weights())
    elif isinstance(weights, dict):
        user = {key: weights[key] for key in case.names}
    else:
        user = dict(zip(case.names, weights))
    if isinstance(user, dict):
        user = {key: np.array(w, dtype=case.dtype) for key, w in user.items()}
        return user if case.conv.container == "dict" else list(user.values())
    return [np.array(w, dtype=case.dtype) for w in user]


def _setup(
    sizes, activations, loss, convention, overrides, weights, X, Y, dtype, batch, seed
) -> _Case:
    """The arguments checked, refnet's network and the batch (a drawn X is drawn again
    while it has entries within rounding of a kink)."""
    conv = conventions.get(convention, **overrides)
    sizes = check_sizes(sizes, "sizes")
    acts = _activations(activations, len(sizes) - 1)
    loss = refnet.losses.get(loss).name
    dtype = check_dtype(dtype)
    batch = check_size(batch, "batch")
    # A probability output fused into its cross-entropy: refnet computes from logits.
    ref_acts, prob = list(acts), None
    if (loss, acts[-1]) in (
        ("binary_cross_entropy", "sigmoid"),
        ("softmax_cross_entropy", "softmax"),
    ):
        ref_acts[-1], prob = "linear", refnet.activations.get(acts[-1])
    # a preset's class ids (nnfs) mean nothing for a regression loss: its Y is targets;
    # asked for by name, they are refused
    if overrides.get("labels") == "int" and loss not in (
        "softmax_cross_entropy",
        "categorical_cross_entropy",
    ):
        raise ValueError(
            f"labels: 'int' class ids need a softmax or categorical cross-entropy, got "
            f"loss {loss!r}; pass labels='onehot'"
        )
    _check_memory(sizes, X, batch, dtype)
    net = refnet.Network.build(
        sizes, ref_acts, seed=seed, dtype=dtype, use_bias=conv.use_bias
    )
    if weights is not None:
        net.set_weights(conv.weights_from_user(_user_weights(weights, conv, sizes)))
    rng = np.random.default_rng([seed, 1])
    for _ in range(KINK_REDRAWS):  # a drawn X with no z within rounding of a kink
        X_rows, Y_rows, X_user, Y_user = _batch(conv, sizes, X, Y, loss, batch, rng)
        X_rows = refnet.validation.check_input(X_rows, sizes[0], dtype)
        kinks = near_kinks(net, X_rows)
        if X is not None or not kinks:
            break
    # a copy in the check's dtype (exact in float64)
    X_user = np.array(X_user, dtype=dtype)
    if Y_user.dtype.kind == "f" or Y_user.ndim == 2:  # class ids (n,) stay ints
        Y_user = np.array(Y_user, dtype=dtype)
    return _Case(
        conv, sizes, acts, loss, dtype, net, prob, X_rows, Y_rows, X_user, Y_user, kinks
    )


def _check_memory(sizes, X, batch: int, dtype) -> None:
    """Refuse a batch whose arrays would not fit, before drawing it: about a dozen
    (n, n_l) arrays per layer live at once (z, a, delta in refnet's rows and in the
    user's layout, the user's own, the reference scaled), in float64."""
    n = batch if X is None else int(np.shape(X)[0] if np.ndim(X) == 2 else 0)
    per_row = 12 * sum(sizes) * 8
    check_memory(n * per_row, f"a batch of {n} for the layout {sizes}", "batch")


MAX_PINNED = 16  # kink entries tried one by one (each try is one reference backprop)


def _pin_kinks(case: _Case, ref, got, rows, messages):
    """The reference on your code's side of each kink entry, as ``compare`` pins an
    oracle to refnet's: entries of z within rounding of relu's kink are flipped one by
    one, each kept when it brings the rows closer, until every row matches. Returns
    (ref, rows, messages, the pinned entries described), the given ones when no choice
    of sides makes every row match."""
    entries = near_kink_entries(case.net, case.X_rows, rounding_only=True)
    entries = entries[:MAX_PINNED]

    def evaluate(flips):
        net = with_kinks_flipped(case.net, flips)
        r = reference(net, case.conv, case.X_rows, case.Y_rows, case.loss, case.prob)
        out = _rows(got, r, case.conv, case.sizes, case.n)
        score = (sum(not row.ok for row in out[0]), max(row.ratio for row in out[0]))
        return score, r, out

    best, kept = evaluate([])[0], []
    for entry in entries:
        score, r, (new_rows, new_messages) = evaluate([*kept, entry])
        if score < best:
            best, kept = score, [*kept, entry]
            if score[0] == 0:
                return r, new_rows, new_messages, describe_entries(kept)
    # nothing pinned: the rows (and got["_rows"]) of the reference as computed
    rows, messages = _rows(got, ref, case.conv, case.sizes, case.n)
    return ref, rows, messages, ""


def _call_user(fn, w_user, case: _Case, title: str, what: str):
    """What ``fn`` returned, read (crosscheck/mine/returned.py); or the report saying it
    raised (its traceback) or returned something unreadable."""
    try:
        out = fn(w_user, case.X_user, case.Y_user)
    except Exception as exc:  # the user's code: show their traceback, then ours
        tb = traceback.TracebackException.from_exception(exc)
        tb.stack = traceback.StackSummary.from_list(tb.stack[1:])  # drop this frame
        text = "".join(tb.format()).rstrip()
        return BackpropReport(
            title,
            [],
            error=msg("check.fn_raised", error=type(exc).__name__, exc=exc),
            diagnosis=[msg("check.fn_raised_traceback", traceback=text), what],
        )
    try:
        return read(out, case.names)
    except BadOutput as exc:
        return BackpropReport(
            title,
            [],
            error=msg("check.unreadable", exc=exc),
            diagnosis=[msg("check.returned", type=type(out).__name__, exc=exc), what],
        )


def _diagnosis(report, got, ref, messages, case: _Case, pinned: str = "") -> list[str]:
    """What is wrong, in words: the first failing row explained, the rows after it, and
    a kink the user's X lies on."""
    rows, first = report.rows, report.first_failure
    if first is None:
        names = msg("list.comma").join(r.name for r in rows)
        out = [msg("check.all_match", n=len(rows), names=names)]
    else:
        matched = {r.name for r in rows if r.ok}
        out = [_first_failure(first, got, ref, messages, case, matched)]
        later = [r.name for r in rows if not r.ok and r.name != first.name]
        if later:
            out.append(msg("check.later_rows", names=msg("list.comma").join(later)))
    if pinned:
        out.append(msg("check.kink_pinned", entries=pinned))
    elif case.kinks and first is not None:
        # the user's X (a drawn one avoids them)
        out.append(msg("check.kink_near", entries=case.kinks))
    return out


def _first_failure(first, got, ref, messages, case: _Case, matched=()) -> str:
    """The sentence for the first failing row (``matched``: the rows that matched)."""
    L, loss = len(case.sizes) - 1, case.loss
    lab = label(first.name, loss, L)
    if first.name in messages:
        return sentence(first.name, lab, messages[first.name])
    if first.note.startswith("dtype"):
        if case.dtype.name == "float32":
            how = msg("check.dtype_float32")
        else:
            how = msg("check.dtype_float64")
        # the row's note, "dtype float64, expected float32" (compare_tensor's)
        found = re.fullmatch(r"dtype (\S+), expected (\S+)", first.note)
        got_dtype, want_dtype = found.groups() if found else ("?", case.dtype.name)
        text = msg(
            "check.dtype",
            name=first.name,
            got=got_dtype,
            want=want_dtype,
            how=how,
            dtype=case.dtype.name,
        )
        return sentence(first.name, lab, text)
    decay = decay_in_code(ref, got["_rows"]) if first.name == "loss" else None
    if decay:
        return decay
    try:
        return diagnose_row(ref, first.name, got["_rows"][first.name], matched)
    except Exception as exc:
        # a diagnosis must never hide the table
        error = f"{type(exc).__name__}: {exc}"
        return sentence(first.name, lab, msg("check.no_diagnosis", error=error))


def _changed_in_place(saved: dict, given: dict) -> list[str]:
    """A sentence for each argument the user's function changed in place."""
    return [
        msg(
            "check.in_place",
            what=key if key in "XY" else msg("check.in_place_weights", key=key),
        )
        for key, before in saved.items()
        if not np.array_equal(before, np.asarray(given[key]))
    ]


def reference_sentence(r: Report, lang=None) -> str:
    """Whether refnet itself matches the frameworks on this network and batch, in
    ``lang`` (None: the current language, English outside check_backprop)."""
    with language(lang or current()):
        who = framework(r.columns()[0] or ["tf"])
        if r.ok:
            return msg(
                "check.reference_ok", who=who, n=len(r.rows), worst=r.worst_ratio
            )
        table = r.table(lang=current())
        return msg(
            "check.reference_disagrees",
            who=who,
            first=r.first_failure.name,
            table=table,
        )


def _wanted(got, conv, sizes, n) -> list[tuple[str, object, tuple]]:
    """(row name, the user's value, expected shape) for everything returned, in
    backprop order: loss, output, then from layer L down dA{l}, delta{l} (dZ{l}),
    dW{l}, db{l}, and dX (dA0) last."""
    L = len(sizes) - 1
    want = []
    if "loss" in got:
        want.append(("loss", got["loss"], ()))
    if "output" in got:
        want.append(("output", got["output"], conv.batch_shape(n, sizes[-1])))
    grads = dict(zip(conv.weight_names(L), got["grads"]))
    for l in range(L, 0, -1):
        if l in got["dA"]:
            want.append((f"dA{l}", got["dA"][l], conv.batch_shape(n, sizes[l])))
        if l in got["dZ"]:
            want.append((f"delta{l}", got["dZ"][l], conv.batch_shape(n, sizes[l])))
        want.append((f"dW{l}", grads[f"W{l}"], conv.W_shape(sizes[l - 1], sizes[l])))
        if conv.use_bias:
            want.append((f"db{l}", grads[f"b{l}"], conv.b_shape(sizes[l])))
    dX = got.get("dX", got["dA"].get(0))
    if dX is not None:
        want.append(("dX", dX, conv.batch_shape(n, sizes[0])))
    return want


def _magnitude(ref, name: str):
    """TOL1's M for a row: the reference's, or for dL/da rows the size of the terms of
    delta[l+1] @ W[l+1].T (None for dA[L]: TOL1 on its own values)."""
    if name == "dX":
        return np.sqrt(np.square(ref.M["delta1"]) @ np.square(ref.W[0]).T)
    if name.startswith("dA"):
        l = int(name[2:])
        if l == ref.L:
            return None
        return np.sqrt(np.square(ref.M[f"delta{l + 1}"]) @ np.square(ref.W[l]).T)
    return ref.M.get(name)


def _rows(got, ref, conv, sizes, n):
    """Rows in backprop order; messages for rows whose shape or type is wrong."""
    rows, messages, arrays = [], {}, {}
    for name, value, shape in _wanted(got, conv, sizes, n):
        if name == "loss":
            try:
                value = float(value)
            except (TypeError, ValueError):
                messages[name] = msg("check.loss_not_number", type=type(value).__name__)
                value = math.nan
            ref_value, arr = np.float64(ref.loss), np.float64(value)
        else:
            ref_value = ref.value(name)
            arr, message = to_rows(value, name, conv, shape, ref_value.shape, n)
            if message:
                messages[name] = message
                rows.append(_shape_row(name, shape, ref.row_rtol))
                continue
            if _per_example(conv, name):
                # the per-example derivative, in the cost's scale: its 1/n applied
                arr = arr / arr.dtype.type(n)
            if not np.isfinite(arr).all():
                messages[name] = msg("diag.nonfinite")
        arrays[name] = arr
        row = compare_tensor(
            name, arr, ref_value, ref.row_rtol, "", _magnitude(ref, name)
        )
        if name != "loss" and row.where is not None and tuple(shape) != row.shape:
            # shape and worst index as the user's convention lays the array out
            row.where = (
                row.where[::-1] if len(shape) == len(row.shape) else (*row.where, 0)
            )
        row.shape = tuple(shape)
        rows.append(row)
    got["_rows"] = arrays
    return rows, messages


def _per_example(conv, name: str) -> bool:
    """Whether the user's row ``name`` is an intermediate (dZ, dA, dX) of the
    per-example cost under a mean reduction (deeplearning.ai's dZ = dA * g'(Z))."""
    kind = name.rstrip("0123456789")
    return (
        conv.intermediates == "per_example"
        and conv.reduction == "mean"
        and kind in ("delta", "dA", "dX")
    )


def _shape_row(name: str, shape, rtol: float) -> Row:
    """The failing row of a value whose shape or type is wrong."""
    return Row(
        name,
        tuple(shape),
        math.inf,
        math.inf,
        rtol,
        math.nan,
        False,
        None,
        math.inf,
        "shape or type",
    )


def _against_oracles(net, conv, X, Y, loss, ref, oracle=None) -> Report:
    """crosscheck.compare on the reference network: refnet's unscaled rows against every
    framework's (``oracle``), in one report."""
    from ..check import compare

    loss_obj = refnet.losses.get(loss, reduction=conv.keras_reduction)
    return compare(net, X, Y, loss_obj, l2=conv.l2_eff / ref.c, dX=True, oracle=oracle)


def network_fn(cls, activations, loss, l2: float = 0.0):
    """fn(weights, X, Y) running ``cls(...).gradients`` (a refnet.Network subclass) in the
    keras convention, returning grads, loss, deltas and output: a way to check a
    subclass, or a bug of crosscheck.bugs, with check_backprop."""

    def fn(weights, X, Y):
        sizes = [weights[0].shape[0]] + [W.shape[1] for W in weights[::2]]
        base = refnet.Network.build(
            sizes, activations, init="zeros", dtype=weights[0].dtype
        )
        base.set_weights(weights)
        net = cls(base.layers)
        res = net.gradients(X, Y, loss, l2=l2) if l2 else net.gradients(X, Y, loss)
        return {
            "grads": res.grads(),
            "loss": res.loss,
            "deltas": res.delta,
            "output": res.a[-1],
        }

    fn.__name__ = getattr(cls, "__name__", "network")
    return fn
