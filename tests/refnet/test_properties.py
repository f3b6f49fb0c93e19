"""Property-based tests over the public API (hypothesis): any input, three promises.

1. Every call returns a result or raises ValueError/TypeError whose message starts with
   the name of the argument at fault (``X: ...``, ``sizes[1]: ...``), never another
   exception or a message that names nothing.
2. Arrays the caller passes in are never mutated.
3. No non-finite result comes back silently: a returned loss, output or gradient with
   NaN or inf comes with a warning (refnet.NonFiniteWarning, documented on gradients).

Each test draws one argument from a strategy of arbitrary values (wrong types, ragged
lists, every dtype, NaN/inf/huge numbers, empty and odd shapes) and keeps the others
valid, so the error must be pinned on the argument that was drawn.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refnet
from refnet import optimizers

# --- strategies of arbitrary values -------------------------------------------------------

DTYPES = [
    np.float64,
    np.float32,
    np.float16,
    np.int64,
    np.int8,
    np.uint8,
    np.bool_,
    np.complex128,
]

finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@st.composite
def arrays(draw, max_dims=3, max_side=5):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(
        hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side)
    )
    if np.dtype(dtype).kind == "f":
        elements = st.floats(
            allow_nan=True, allow_infinity=True, width=np.dtype(dtype).itemsize * 8
        )
    else:
        elements = None
    return draw(hnp.arrays(dtype, shape, elements=elements))


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    finite_or_not,
    st.text(max_size=5),
    st.complex_numbers(max_magnitude=10),
)
anything = st.one_of(
    scalars,
    arrays(),
    st.lists(scalars, max_size=4),
    st.lists(st.lists(st.floats(-10, 10), max_size=4), max_size=4),  # ragged
    st.just(object()),
)


def valid_or_not(valid, strategy=anything):
    """Mostly garbage, sometimes the valid value (so success paths are drawn too)."""
    return st.one_of(st.just(valid), strategy)


# --- the three promises -----------------------------------------------------------------------


def call(fn, names: set[str], *mutables):
    """Run fn(); check promise 1 on failure, 2 always, and 3 on the returned value."""
    before = [np.array(m, copy=True) for m in mutables if isinstance(m, np.ndarray)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn()
        except (ValueError, TypeError) as err:
            message = str(err)
            head = re.match(r"^([\w.-]+)(\[\d+\])*:", message)
            assert head and head.group(1) in names, (
                f"{type(err).__name__} does not name one of {sorted(names)}: {message!r}"
            )
            out = None
    after = [m for m in mutables if isinstance(m, np.ndarray)]
    for b, a in zip(before, after):
        assert np.array_equal(b, a, equal_nan=True) and b.dtype == a.dtype, (
            "input mutated"
        )
    if out is not None and not _all_finite(out):
        assert any(issubclass(w.category, RuntimeWarning) for w in caught), (
            f"non-finite result without a warning: {out!r}"[:300]
        )
    return out


def _all_finite(out) -> bool:
    if isinstance(out, refnet.Gradients):
        parts = [out.loss, out.a[-1], *out.dW, *out.db]
    elif isinstance(out, dict):
        parts = list(out.values())
    elif isinstance(out, (float, np.ndarray)):
        parts = [out]
    else:
        return True
    return all(np.isfinite(np.asarray(p, dtype=np.float64)).all() for p in parts)


NET = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
X_OK = np.random.default_rng(0).normal(size=(5, 3))
Y_OK = np.array([0, 1, 1, 0, 1])


# --- the properties -------------------------------------------------------------------------


@given(
    sizes=valid_or_not([3, 4, 2], st.one_of(anything, st.text(max_size=8))),
    activations=valid_or_not(None),
    init=valid_or_not("glorot_uniform"),
    seed=valid_or_not(0),
    dtype=valid_or_not("float64"),
)
def test_build(sizes, activations, init, seed, dtype):
    if isinstance(sizes, str) and len(sizes) > 6:
        sizes = sizes[:6]  # a layout string: keep the widths small
    names = {"sizes", "activations", "activation", "init", "seed", "dtype"}
    call(
        lambda: (
            refnet.Network.build(sizes, activations, init, seed, dtype)
            if _small(sizes)
            else None
        ),
        names,
    )


def _small(sizes) -> bool:
    """Skip layouts that would allocate a lot (refused by memory only beyond free RAM)."""
    try:
        return all(
            abs(int(s)) < 10**4 for s in np.ravel(np.asarray(sizes, dtype=object))
        )
    except (TypeError, ValueError, OverflowError):
        return True


@given(X=anything)
def test_forward(X):
    call(lambda: NET.forward(X), {"X"}, X)


@given(
    X=valid_or_not(X_OK),
    Y=valid_or_not(Y_OK),
    loss=st.sampled_from(refnet.losses.names()),
)
def test_gradients(X, Y, loss):
    call(lambda: NET.gradients(X, Y, loss), {"X", "Y", "loss"}, X, Y)


@given(loss=anything)
def test_gradients_loss_name(loss):
    # a valid name may not fit class-id targets (mse wants rows): then Y is at fault
    call(lambda: NET.gradients(X_OK, Y_OK, loss), {"loss", "Y"})


@given(
    weights=valid_or_not(
        NET.get_weights(), st.one_of(anything, st.lists(arrays(2, 4), max_size=5))
    )
)
def test_set_weights(weights):
    net = refnet.Network.build([3, 4, 2], seed=0)
    mutables = weights if isinstance(weights, list) else [weights]
    call(lambda: net.set_weights(weights), {"weights"}, *mutables)


@given(
    epochs=valid_or_not(1),
    batch_size=valid_or_not(2),
    seed=valid_or_not(0),
    optimizer=valid_or_not(
        "sgd", st.one_of(anything, st.sampled_from(["adam", "nope"]))
    ),
)
def test_fit(epochs, batch_size, seed, optimizer):
    net = refnet.Network.build([3, 4, 2], seed=0)
    X, Y = X_OK.copy(), Y_OK.copy()
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 3:
        epochs = 3
    names = {"epochs", "batch_size", "seed", "optimizer"}
    call(
        lambda: net.fit(
            X,
            Y,
            "softmax_cross_entropy",
            optimizer,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            progress=False,
        ),
        names,
        X,
        Y,
    )


@given(
    kind=st.sampled_from(["SGD", "RMSprop", "Adam"]),
    name=st.sampled_from(
        [
            "learning_rate",
            "momentum",
            "rho",
            "epsilon",
            "beta_1",
            "beta_2",
            "nesterov",
            "centered",
            "amsgrad",
        ]
    ),
    value=anything,
)
def test_optimizer_hyper_parameters(kind, name, value):
    cls = getattr(optimizers, kind)
    if name not in cls.__init__.__code__.co_varnames:
        return
    opt = call(lambda: cls(**{name: value}), {name})
    if opt is not None:  # an accepted value must give a usable, finite step
        net = refnet.Network.build([3, 4, 2], seed=0)
        res = net.gradients(X_OK, Y_OK, "softmax_cross_entropy")
        call(lambda: opt.apply(net, res), {name, "learning_rate"})


@given(
    step=valid_or_not(1e-5),
    rtol=valid_or_not(1e-6),
    max_entries=valid_or_not(None),
    seed=valid_or_not(0),
)
def test_gradcheck(step, rtol, max_entries, seed):
    call(
        lambda: refnet.gradcheck(
            NET,
            X_OK,
            Y_OK,
            "softmax_cross_entropy",
            step=step,
            rtol=rtol,
            max_entries=max_entries,
            seed=seed,
        ),
        {"step", "rtol", "max_entries", "seed"},
    )


@given(sizes=anything)
def test_count_params(sizes):
    call(lambda: refnet.count_params(sizes), {"sizes"})


@given(
    n_in=valid_or_not(3),
    n_out=valid_or_not(2),
    activation=valid_or_not("relu"),
    dtype=valid_or_not("float32"),
)
def test_dense(n_in, n_out, activation, dtype):
    if _small([n_in, n_out]):
        call(
            lambda: refnet.Dense(n_in, n_out, activation, dtype=dtype),
            {"n_in", "n_out", "activation", "dtype"},
        )


@given(batch_size=anything, X=valid_or_not(X_OK))
def test_predict_and_evaluate(batch_size, X):
    call(lambda: NET.predict(X, batch_size=batch_size), {"X", "batch_size"}, X)
    call(lambda: NET.evaluate(X, Y_OK, "softmax_cross_entropy"), {"X", "Y"}, X)


@given(X=hnp.arrays(np.float64, (4, 3), elements=st.floats(-1e308, 1e308)))
def test_huge_finite_inputs_overflow_with_a_warning(X):
    """Finite inputs whose products overflow (N10): the result says so, never silently."""
    net = refnet.Network.build([3, 4, 2], ["linear", "linear"], seed=0)
    call(lambda: net.gradients(X, np.zeros((4, 2)), "mse"), {"X"}, X)


def test_the_property_helper_can_fail():
    """The checks above are not vacuous: each promise, broken on purpose, is caught."""
    with pytest.raises(AssertionError, match="does not name"):
        call(lambda: (_ for _ in ()).throw(ValueError("something went wrong")), {"X"})
    x = np.zeros(3)
    with pytest.raises(AssertionError, match="input mutated"):
        call(lambda: x.__setitem__(0, 1.0), {"X"}, x)
    with pytest.raises(AssertionError, match="non-finite result without a warning"):
        call(lambda: np.array([np.nan]), {"X"})
