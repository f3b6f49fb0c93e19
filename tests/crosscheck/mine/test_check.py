"""check_backprop: the seeded-bug catalog in words, conventions, and bad user code.

Every entry of crosscheck.bugs.CATALOG, run through check_backprop as a plain function,
fails at its catalog row with its own diagnosis sentence (BP1-BP4, SM1, LS1, LS2, AF2,
AF4). Bad user code gets a message, not a traceback from inside crosscheck.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import refnet
from crosscheck import check_backprop
from crosscheck.bugs import CATALOG
from crosscheck.mine import network_fn
from tests.crosscheck.mine.own_backprops import (
    bug_raises,
    keras_matrix_mse,
    nielsen_batch_matrix,
)


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow"
)
def test_reference_is_checked_against_tensorflow_in_the_same_report():
    from tests.crosscheck.mine.own_backprops import cs231n_two_layer

    report = check_backprop(
        cs231n_two_layer,
        [6, 10, 4],
        ["relu", "linear"],
        "softmax_cross_entropy",
        convention="cs231n",
        l2=0.05,
    )
    assert report.ok and report.reference is not None and report.reference.ok, str(
        report
    )
    assert report.reference.rows[-1].name == "dX"
    assert "refnet matches TensorFlow" in report.diagnosis[-1]
    assert "l2=0.05" in report.reference.title


def test_the_reference_takes_the_oracles_compare_takes():
    """oracle= chooses the frameworks refnet itself is checked against; a bad one is
    named before the user's function runs."""
    pytest.importorskip("torch")
    called = []

    def mine(weights, X, Y):
        called.append(1)
        return keras_matrix_mse(weights, X, Y)

    acts = ["sigmoid", "linear"]
    report = check_backprop(mine, [4, 6, 3], acts, "mse", oracle="torch")
    assert report.ok, str(report)
    assert " vs torch:" in report.reference.title, report.reference.title
    assert "refnet matches PyTorch on this network" in report.diagnosis[-1]
    called.clear()
    with pytest.raises(ValueError, match=r"oracle: expected one of \["):
        check_backprop(mine, [4, 6, 3], acts, "mse", oracle=("torch", "caffe"))
    with pytest.raises(TypeError, match="oracle: expected None, a name or a tuple"):
        check_backprop(mine, [4, 6, 3], acts, "mse", oracle=7)
    assert not called


def test_user_weights_and_batch_are_converted_exactly(rng):
    """Given (nielsen-layout) weights, X and Y reach fn untouched and the check passes."""
    W1, b1 = rng.normal(size=(6, 4)), rng.normal(size=(6, 1))
    W2, b2 = rng.normal(size=(3, 6)), rng.normal(size=(3, 1))
    X, Y = rng.normal(size=(4, 5)), rng.uniform(size=(3, 5))
    seen = {}

    def spy(weights, X_, Y_):
        seen["w"], seen["X"], seen["Y"] = weights, X_, Y_
        return nielsen_batch_matrix(weights, X_, Y_)

    report = check_backprop(
        spy,
        [4, 6, 3],
        "sigmoid",
        "mse",
        convention="nielsen",
        weights=[W1, b1, W2, b2],
        X=X,
        Y=Y,
        tensorflow=False,
    )
    assert report.ok, str(report)
    for got, want in zip(seen["w"] + [seen["X"], seen["Y"]], [W1, b1, W2, b2, X, Y]):
        np.testing.assert_array_equal(got, want)


def test_class_ids_accepted_as_targets(rng):
    from tests.crosscheck.mine.own_backprops import cs231n_two_layer

    y = rng.integers(0, 4, size=8)
    assert check_backprop(
        cs231n_two_layer,
        [6, 10, 4],
        ["relu", "linear"],
        "softmax_cross_entropy",
        convention="cs231n",
        l2=0.05,
        Y=y,
        tensorflow=False,
    ).ok


# --- bad user code ----------------------------------------------------------------------


def test_fn_raising_shows_the_users_traceback_then_what_was_checked():
    report = check_backprop(
        bug_raises, [4, 6, 3], ["tanh", "linear"], "mse", tensorflow=False
    )
    assert not report.ok and report.error.startswith("fn raised ValueError")
    text = str(report)
    assert "in bug_raises" in text and "z1 = W1 @ X" in text  # the user's own line
    assert "crosscheck/mine/check.py" not in report.diagnosis[0]
    assert (
        "while checking fn(weights, X, Y) with weights list shapes {'W1': (4, 6), "
        "'b1': (6,)" in text
    )


@pytest.mark.parametrize(
    "returned, message",
    [
        (None, "expected a list [dW1, db1, ...] or a dict of gradients, got NoneType"),
        ([np.zeros((4, 6))], "expected 4 gradients [dW1, db1, dW2, db2], got 1 items"),
        ({"grads": {"W1": 0}}, "grads: a dict needs the keys W1, b1, W2, b2 (or dW1"),
        ({"W1": 0, "b2": 1}, "grads: a dict needs the keys W1, b1, W2, b2 (or dW1"),
    ],
)
def test_wrong_structure_is_named(returned, message):
    report = check_backprop(
        lambda w, X, Y: returned, [4, 6, 3], "tanh", "mse", tensorflow=False
    )
    assert not report.ok and message in report.error


def test_wrong_shape_names_the_expected_shape_in_the_convention():
    def wrong(weights, X, Y):
        grads = nielsen_batch_matrix(weights, X, Y)
        grads[1] = grads[1].ravel()  # b1 flat where nielsen has (n_out, 1)
        return grads

    report = check_backprop(
        wrong, [4, 6, 3], "sigmoid", "mse", convention="nielsen", tensorflow=False
    )
    assert report.first_failure.name == "db1"
    assert (
        "your db1 has shape (6,); expected (6, 1) in the nielsen convention"
        in report.diagnosis[0]
    )


def test_non_finite_values_are_named():
    def nan(weights, X, Y):
        grads = keras_matrix_mse(weights, X, Y)["grads"]
        grads[2] = grads[2] * np.nan
        return grads

    report = check_backprop(
        nan, [4, 6, 3], ["sigmoid", "linear"], "mse", tensorflow=False
    )
    assert report.first_failure.name == "dW2" and "NaN or inf" in report.diagnosis[0]


def test_mutating_the_weights_is_reported():
    from tests.crosscheck.mine.own_backprops import bug_stale_weights

    report = check_backprop(
        bug_stale_weights, [4, 6, 3], ["tanh", "linear"], "mse", tensorflow=False
    )
    assert any("changed weights W2 in place" in s for s in report.diagnosis)


def test_wrong_convention_layout_raises_in_the_users_code_with_a_pointer():
    report = check_backprop(
        nielsen_batch_matrix, [4, 6, 3], "sigmoid", "mse", tensorflow=False
    )
    assert not report.ok and "keras: samples='rows'" in report.diagnosis[-1]


# --- bad arguments -----------------------------------------------------------------------


def test_bad_arguments_are_named():
    ok = keras_matrix_mse
    with pytest.raises(ValueError, match="convention: expected one of"):
        check_backprop(ok, [4, 6, 3], "tanh", "mse", convention="pytorch")
    with pytest.raises(ValueError, match="mse_scale: expected one of"):
        check_backprop(ok, [4, 6, 3], "tanh", "mse", mse_scale="half")
    with pytest.raises(TypeError, match="weight_layout: not an override"):
        check_backprop(ok, [4, 6, 3], "tanh", "mse", weight_layout="out_in")
    with pytest.raises(ValueError, match="bias_shape: 'column'"):
        check_backprop(ok, [4, 6, 3], "tanh", "mse", bias_shape="column")
    with pytest.raises(
        ValueError, match=r"weights\[2\] \(W2\): expected shape \(3, 6\)"
    ):
        check_backprop(
            ok,
            [4, 6, 3],
            "tanh",
            "mse",
            convention="nielsen",
            weights=[
                np.zeros((6, 4)),
                np.zeros((6, 1)),
                np.zeros((6, 3)),
                np.zeros((3, 1)),
            ],
        )
    with pytest.raises(
        ValueError, match=r"X: expected shape \(4, 'n'\) in the nielsen"
    ):
        check_backprop(
            ok, [4, 6, 3], "tanh", "mse", convention="nielsen", X=np.zeros((5, 4))
        )
    with pytest.raises(TypeError, match="fn: expected a function"):
        check_backprop("mine.py", [4, 6, 3], "tanh", "mse")
    with pytest.raises(ValueError, match="activations: expected 2 names"):
        check_backprop(ok, [4, 6, 3], ["tanh"] * 3, "mse")


def test_given_float64_data_reach_a_float32_check_as_float32(rng):
    """dtype="float32": given weights and X are cast, so a float32 implementation sees
    float32 and its float32 results pass."""
    from tests.crosscheck.mine.own_backprops import keras_float32_sigmoid

    weights = [rng.normal(size=s) for s in [(4, 6), (6,), (6, 3), (3,)]]
    seen = {}

    def spy(w, X, Y):
        seen["dtypes"] = {a.dtype.name for a in [*w, X, Y]}
        return keras_float32_sigmoid(w, X, Y)

    report = check_backprop(
        spy,
        [4, 6, 3],
        ["sigmoid", "linear"],
        "mse",
        dtype="float32",
        weights=weights,
        X=rng.normal(size=(5, 4)),
        Y=rng.normal(size=(5, 3)),
        tensorflow=False,
    )
    assert report.ok, str(report)
    assert seen["dtypes"] == {"float32"}


# --- kinks: z within rounding of relu's kink -------------------------------------------


def test_a_drawn_batch_avoids_entries_near_a_kink():
    """A correct float32 ReLU backprop summing in another order must not FAIL: the
    check draws X again until no z lies within rounding of the kink."""
    from crosscheck.kinks import near_kinks

    sizes, acts = [64, 256, 256, 10], ["relu", "relu", "linear"]
    # a seed whose first draw has entries near the kink (most have)
    seed = next(
        s
        for s in range(20)
        if near_kinks(
            refnet.Network.build(sizes, acts, seed=s, dtype="float32"),
            np.random.default_rng([s, 1]).normal(size=(64, 64)).astype(np.float32),
        )
    )
    seen = []

    def mine(weights, X, Y):
        seen.append(np.array(X))
        return network_fn(refnet.Network, acts, "mse")(weights, X, Y)

    report = check_backprop(
        mine, sizes, acts, "mse", dtype="float32", batch=64, seed=seed, tensorflow=False
    )
    assert report.ok, report
    net = refnet.Network.build(sizes, acts, seed=seed, dtype="float32")
    assert near_kinks(net, seen[0]) == ""


def test_a_given_batch_with_entries_at_the_kink_gets_a_note():
    bug = next(b for b in CATALOG if b.name == "relu'(0) = 1")
    net = bug.build()[0]
    X = np.zeros((4, 4))  # zero rows with zero biases: z1 = 0 exactly, on the kink
    net.set_weights(
        [w if i % 2 == 0 else np.zeros_like(w) for i, w in enumerate(net.get_weights())]
    )
    fn = network_fn(type(net), list(bug.activations), bug.loss)
    report = check_backprop(
        fn,
        list(bug.layout),
        list(bug.activations),
        bug.loss,
        weights=net.get_weights(),
        X=X,
        Y=[0, 1, 2, 0],
        tensorflow=False,
    )
    assert not report.ok
    assert any(
        d.startswith("note: z1[0, 0], z1[0, 1], z1[0, 2] and ")
        for d in report.diagnosis
    )


def test_keys_it_cannot_place_are_named_and_ignored():
    """Extra keys (a cache, a typo'd intermediate) are named in a note; the gradients
    are still checked."""

    def extra(weights, X, Y):
        out = keras_matrix_mse(weights, X, Y)
        return {"grads": out["grads"], "delta": [], "cache": {"A1": 0}, "dZ9": 0}

    report = check_backprop(
        extra, [4, 6, 3], ["sigmoid", "linear"], "mse", tensorflow=False
    )
    assert report.ok, str(report)
    note = [s for s in report.diagnosis if s.startswith("ignored")]
    assert note and "'delta', 'cache', 'dZ9'" in note[0]


def _straddling_case():
    """A float32 4-6-3 relu net and X where the user's correct code (z summed in
    reverse order) puts z1[0, j] exactly at 0, so relu'(z) = 0 there, while BLAS' sum
    (refnet's) lands just above 0 (relu' = 1): the same z within rounding, the two
    sides of the kink. Found by search, so any BLAS kernel gives one."""
    for seed in range(500):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(5, 4)).astype(np.float32)
        W1 = rng.normal(size=(4, 6)).astype(np.float32)
        W2 = rng.normal(size=(6, 3)).astype(np.float32)
        b1 = np.zeros(6, np.float32)
        b1[2] = -_reversed_dot(X[0], W1[:, 2])
        b2 = np.zeros(3, np.float32)
        if (np.matmul(X, W1) + b1)[0, 2] > 0:
            return X, [W1, b1, W2, b2]
    raise RuntimeError("no straddling case in 500 seeds")


def _reversed_dot(x, w):
    acc = np.float32(0)
    for xi, wi in zip(x[::-1], w[::-1]):
        acc = np.float32(acc + xi * wi)
    return acc


def reversed_sums(weights, X, Y):
    """Correct float32 keras-convention backprop (relu, linear, mean MSE) whose first
    layer sums each z in reverse order, as a loop over inputs might."""
    W1, b1, W2, b2 = weights
    z1 = np.array(
        [[_reversed_dot(x, W1[:, j]) + b1[j] for j in range(W1.shape[1])] for x in X],
        dtype=np.float32,
    )
    a1 = np.maximum(z1, 0)
    a2 = a1 @ W2 + b2
    d2 = np.float32(2) * (a2 - Y) / np.float32(Y.size)
    d1 = (d2 @ W2.T) * (z1 > 0)
    return [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)]


def test_kink_entries_of_a_users_X_are_pinned_to_the_users_side():
    """Correct float32 code never FAILs because its rounding put a z on the other side
    of relu's kink: the reference is evaluated on its side, and the entry is named."""
    X, weights = _straddling_case()
    Y = np.zeros((5, 3), np.float32)
    args = ([4, 6, 3], ["relu", "linear"], "mse")
    report = check_backprop(
        reversed_sums,
        *args,
        X=X,
        Y=Y,
        weights=weights,
        dtype="float32",
        tensorflow=False,
    )
    assert report.ok, str(report)
    assert any("z1[0, 2]" in s and "your side" in s for s in report.diagnosis)

    def mask_from_a_wrong_sign(weights, X, Y):
        # a real bug below the kink is still found: relu' taken as z < 0
        grads = reversed_sums(weights, X, Y)
        grads[0] = -grads[0]
        return grads

    bad = check_backprop(
        mask_from_a_wrong_sign,
        *args,
        X=X,
        Y=Y,
        weights=weights,
        dtype="float32",
        tensorflow=False,
    )
    assert not bad.ok and bad.first_failure.name == "dW1"


def test_a_flat_dict_gives_its_loss_and_output_too():
    """{"loss": .., "output": .., "dW1": .., ...} in one dict, as many loops build it:
    loss and output are rows, not ignored."""

    def flat(weights, X, Y):
        out = keras_matrix_mse(weights, X, Y)
        dW1, db1, dW2, db2 = out["grads"]
        return {
            "loss": out["loss"],
            "output": out["output"],
            "dW1": dW1,
            "db1": db1,
            "dW2": dW2,
            "db2": db2,
        }

    report = check_backprop(
        flat, [4, 6, 3], ["sigmoid", "linear"], "mse", tensorflow=False
    )
    assert report.ok, str(report)
    assert [r.name for r in report.rows][:2] == ["loss", "output"]
    assert not any(s.startswith("ignored") for s in report.diagnosis)


def test_class_ids_of_a_preset_do_not_apply_to_a_regression_loss():
    """nnfs' preset takes class ids, but its regression chapter's Y is targets: MSE
    with the preset alone draws targets; labels='int' asked for by name is refused."""

    def regression(weights, X, y):
        assert y.shape == (X.shape[0], 2) and y.dtype.kind == "f"
        W1, b1 = weights
        out = X @ W1 + b1
        d = 2 * (out - y) / y.size
        return [X.T @ d, d.sum(0, keepdims=True)]

    assert check_backprop(
        regression, [3, 2], "linear", "mse", convention="nnfs", tensorflow=False
    ).ok
    with pytest.raises(ValueError, match="labels: 'int' class ids need"):
        check_backprop(
            regression, [3, 2], "linear", "mse", convention="nnfs", labels="int"
        )


@pytest.mark.parametrize("zero_rows", [1, 2, 3])
def test_z_exactly_at_the_kink_from_zero_inputs_is_never_pinned(zero_rows):
    """Zero input rows with zero biases put z1 at exactly 0 in every summation order:
    relu'(0) = 1 there is a bug, not rounding, however few such entries there are."""

    def relu_ge(weights, X, Y):
        W1, b1, W2, b2 = weights
        z1 = X @ W1 + b1
        a1 = np.maximum(z1, 0)
        a2 = a1 @ W2 + b2
        d2 = 2 * (a2 - Y) / Y.size
        # relu'(0) = 1: the bug
        d1 = (d2 @ W2.T) * (z1 >= 0)
        return [X.T @ d1, d1.sum(axis=0), a1.T @ d2, d2.sum(axis=0)]

    net = refnet.Network.build([4, 6, 3], ["relu", "linear"], seed=0)
    X = np.random.default_rng(0).normal(size=(8, 4))
    X[:zero_rows] = 0
    Y = np.random.default_rng(1).normal(size=(8, 3))
    report = check_backprop(
        relu_ge,
        [4, 6, 3],
        ["relu", "linear"],
        "mse",
        weights=net.get_weights(),
        X=X,
        Y=Y,
        tensorflow=False,
    )
    assert not report.ok and report.first_failure.name == "db1"
    assert "relu'(0) is taken as 1" in report.diagnosis[0]


# --- issue 21's plausible bugs in check_backprop ------------------------------------------


def _softmax_probs_sum(weights, X, Y):
    """Correct keras-layout backprop of a softmax output with the categorical
    cross-entropy from probabilities, summed over the batch (reduction='sum'), with
    dL/da of the probabilities returned as dA2 = -Y / A."""
    W1, b1, W2, b2 = weights
    h = np.tanh(X @ W1 + b1)
    s = h @ W2 + b2
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dZ2 = p - Y
    dh = dZ2 @ W2.T * (1 - h**2)
    return {
        "loss": float(-np.sum(Y * np.log(p))),
        "dA2": -Y / p,
        "dW2": h.T @ dZ2,
        "db2": dZ2.sum(0),
        "dW1": X.T @ dh,
        "db1": dh.sum(0),
    }


def test_summed_probability_cross_entropy_dA_has_no_1_over_n():
    """Under reduction='sum' dL/da[L] of -sum Y log A is -Y / A: no 1/n anywhere."""
    report = check_backprop(
        _softmax_probs_sum,
        [4, 6, 3],
        ["tanh", "softmax"],
        "categorical_cross_entropy",
        reduction="sum",
        tensorflow=False,
    )
    assert report.ok and report.rows[1].name == "dA2", str(report)


def _float32_per_example_sum(weights, X, Y):
    """Correct float32 backprop, MSE summed over the batch, one example at a time: a
    summation order unlike refnet's, whose rounding grows with the n terms summed."""
    W1, b1, W2, b2 = weights
    grads = [np.zeros_like(w) for w in weights]
    for x, t in zip(X, Y):
        h = np.tanh(x @ W1 + b1)
        d2 = np.float32(2 / t.size) * (h @ W2 + b2 - t)
        d1 = (W2 @ d2) * (np.float32(1) - h * h)
        for g, v in zip(grads, (np.outer(x, d1), d1, np.outer(h, d2), d2)):
            g += v
    return grads


def test_summed_costs_scale_the_tolerance_with_the_sum():
    """TOL1's magnitudes of a summed cost are n times those of the mean. Targets equal
    to the network's own output make the exact gradient 0: every number correct float32
    code returns, summing 16384 examples one by one, is rounding, judged against the
    size of the terms it summed (n times a mean's), and passes."""
    net = refnet.Network.build([8, 16, 4], ["tanh", "linear"], seed=0, dtype="float32")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16384, 8)).astype(np.float32)
    Y = net.forward(X)
    report = check_backprop(
        _float32_per_example_sum,
        [8, 16, 4],
        ["tanh", "linear"],
        "mse",
        X=X,
        Y=Y,
        weights=net.get_weights(),
        reduction="sum",
        dtype="float32",
        tensorflow=False,
    )
    assert report.ok, str(report)


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow not installed"
)
def test_the_reference_check_uses_the_users_decay():
    """l2 = 0.1 in half_sum form is 0.05 sum(W^2) in the cost: the reference check's
    loss is the user's own loss, computed here by hand."""
    from tests.crosscheck.mine.own_backprops import cs231n_half_reg

    seen = {}

    def fn(weights, X, Y):
        out = cs231n_half_reg(weights, X, Y)
        seen["loss"] = out[0]
        return out

    report = check_backprop(
        fn,
        [6, 10, 4],
        ["tanh", "linear"],
        "softmax_cross_entropy",
        convention="cs231n",
        l2=0.1,
        l2_form="half_sum",
        container="list",
        labels="onehot",
        tensorflow=True,
    )
    loss_row = next(r for r in report.reference.rows if r.name == "loss")
    assert loss_row.scale == pytest.approx(seen["loss"], rel=1e-6)


def test_float32_hypotheses_are_matched_with_room_for_rounding():
    """A float32 bug at batch 256 (sigmoid' from z) is named, although the candidate
    and the user's numbers differ by float32 rounding of 256-term sums."""

    def sigmoid_prime_from_z(weights, X, Y):
        W1, b1, W2, b2 = weights
        z1 = X @ W1 + b1
        a1 = np.float32(1) / (np.float32(1) + np.exp(-z1))
        d2 = np.float32(2 / Y.size) * (a1 @ W2 + b2 - Y)
        # the bug: a (1 - a) applied to z
        d1 = (d2 @ W2.T) * z1 * (np.float32(1) - z1)
        return [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)]

    report = check_backprop(
        sigmoid_prime_from_z,
        [16, 32, 8],
        ["sigmoid", "linear"],
        "mse",
        dtype="float32",
        batch=256,
        tensorflow=False,
    )
    assert "sigmoid' is computed as z (1 - z)" in report.diagnosis[0], report.diagnosis[
        0
    ]


def test_hypotheses_are_matched_with_room_for_amplified_rounding():
    """Targets within 1e-2 of the float32 network's output: a - y cancels, so float32
    rounding of a (eps |a|) is amplified a hundredfold relative to a - y. The missing 2
    of the square must still be named, which needs the roomy HYPOTHESIS_C."""

    def no_two(weights, X, Y):
        W1, b1, W2, b2 = weights
        h = np.tanh(np.einsum("ni,ij->nj", X, W1) + b1)
        a = np.einsum("nj,jk->nk", h, W2) + b2
        # the bug: the 2 from differentiating the square is missing
        d2 = (a - Y) / np.float32(Y.size)
        d1 = np.einsum("nk,jk->nj", d2, W2) * (np.float32(1) - h * h)
        dW1, dW2 = np.einsum("ni,nj->ij", X, d1), np.einsum("nj,nk->jk", h, d2)
        return [dW1, d1.sum(0), dW2, d2.sum(0)]

    net = refnet.Network.build([4, 6, 3], ["tanh", "linear"], seed=0, dtype="float32")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 4)).astype(np.float32)
    Y = (net.forward(X) + 1e-2 * rng.normal(size=(8, 3))).astype(np.float32)
    report = check_backprop(
        no_two,
        [4, 6, 3],
        ["tanh", "linear"],
        "mse",
        dtype="float32",
        X=X,
        Y=Y,
        weights=net.get_weights(),
        tensorflow=False,
    )
    assert report.first_failure.name == "dW2"
    assert "is half the reference: the 2 from differentiating" in report.diagnosis[0]
