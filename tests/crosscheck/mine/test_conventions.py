"""The conventions of crosscheck mine (crosscheck/mine/conventions.py): their constant factors."""

from __future__ import annotations

from crosscheck.mine import conventions


def test_convention_factors_ls5():
    """LS5/LS6: the constant factor between each convention's cost and refnet's."""
    nielsen = conventions.get("nielsen")
    assert nielsen.factor("mse", 10) == 5 and nielsen.keras_reduction == "sum"
    assert conventions.get("keras").factor("mse", 10) == 1
    assert nielsen.factor("binary_cross_entropy", 3) == 3
    assert conventions.get("cs231n", l2=0.1, l2_form="half_sum").l2_eff == 0.05


# --- each new axis alone, with a backprop written for it by hand -----------------------

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from crosscheck import check_backprop  # noqa: E402


def _rows_mse(W1, b1, W2, b2, X, Y):
    """Keras layout, tanh hidden, linear output, mean MSE over all n*k entries; b may
    be (n,), (1, n) or None. Returns the gradients and the deltas."""
    z1 = X @ W1 + (0 if b1 is None else b1)
    a1 = np.tanh(z1)
    a2 = a1 @ W2 + (0 if b2 is None else b2)
    d2 = 2 * (a2 - Y) / Y.size
    d1 = (d2 @ W2.T) * (1 - a1**2)
    return X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0), d1, d2, a2


def test_container_dict_alone():
    def fn(params, X, Y):
        dW1, db1, dW2, db2, *_ = _rows_mse(
            *(params[k] for k in ("W1", "b1", "W2", "b2")), X, Y
        )
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

    report = check_backprop(
        fn, [4, 6, 3], ["tanh", "linear"], "mse", container="dict", tensorflow=False
    )
    assert report.ok, str(report)
    # the same code handed a list fails inside the user's function: not silently passed
    assert not check_backprop(
        fn, [4, 6, 3], ["tanh", "linear"], "mse", tensorflow=False
    ).ok


def test_row_bias_alone():
    def fn(weights, X, Y):
        W1, b1, W2, b2 = weights
        assert b1.shape == (1, 6) and b2.shape == (1, 3)
        dW1, db1, dW2, db2, *_ = _rows_mse(W1, b1, W2, b2, X, Y)
        return [dW1, db1[None, :], dW2, db2[None, :]]

    report = check_backprop(
        fn, [4, 6, 3], ["tanh", "linear"], "mse", bias_shape="row", tensorflow=False
    )
    assert report.ok, str(report)


def test_no_bias_alone():
    def fn(weights, X, Y):
        W1, W2 = weights
        dW1, _, dW2, _, *_ = _rows_mse(W1, None, W2, None, X, Y)
        return [dW1, dW2]

    report = check_backprop(
        fn, [4, 6, 3], ["tanh", "linear"], "mse", use_bias=False, tensorflow=False
    )
    assert report.ok, str(report)
    assert [r.name for r in report.rows] == ["dW2", "dW1"]


def test_integer_labels_alone():
    def fn(weights, X, y):
        W1, b1, W2, b2 = weights
        assert y.shape == (X.shape[0],) and y.dtype.kind == "i"
        h = np.maximum(X @ W1 + b1, 0)
        s = h @ W2 + b2
        p = np.exp(s - s.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        d2 = p.copy()
        d2[np.arange(len(y)), y] -= 1
        d2 /= len(y)
        d1 = (d2 @ W2.T) * (h > 0)
        return [X.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)]

    report = check_backprop(
        fn,
        [5, 7, 4],
        ["relu", "linear"],
        "softmax_cross_entropy",
        labels="int",
        tensorflow=False,
    )
    assert report.ok, str(report)


def test_intermediates_are_rows_in_backprop_order():
    """dA<l> = dL/da[l] and dZ<l> = delta<l> as students name them; dA0 is dL/dX."""

    def fn(weights, X, Y):
        W1, b1, W2, b2 = weights
        dW1, db1, dW2, db2, d1, d2, a2 = _rows_mse(W1, b1, W2, b2, X, Y)
        grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dZ1": d1, "dZ2": d2}
        grads.update(dA2=2 * (a2 - Y) / Y.size, dA1=d2 @ W2.T, dA0=d1 @ W1.T)
        return grads

    report = check_backprop(fn, [4, 6, 3], ["tanh", "linear"], "mse", tensorflow=False)
    assert report.ok, str(report)
    assert [r.name for r in report.rows] == [
        "dA2", "delta2", "dW2", "db2", "dA1", "delta1", "dW1", "db1", "dX",
    ]  # fmt: skip


def test_a_wrong_intermediate_is_the_first_failing_row():
    def fn(weights, X, Y):
        W1, b1, W2, b2 = weights
        dW1, db1, dW2, db2, d1, d2, _ = _rows_mse(W1, b1, W2, b2, X, Y)
        # dA1 with W2 not transposed (square here), yet the deltas use the right one
        return {
            "dW1": dW1,
            "db1": db1,
            "dW2": dW2,
            "db2": db2,
            "dZ2": d2,
            "dA1": d2 @ W2,
            "dZ1": d1,
        }

    report = check_backprop(fn, [4, 3, 3], ["tanh", "linear"], "mse", tensorflow=False)
    assert report.first_failure.name == "dA1", str(report)
    assert [r.name for r in report.rows if not r.ok] == ["dA1"]


def test_per_example_intermediates_of_deeplearning_ai():
    """deeplearning.ai's dZ = dA * g'(Z) carries no 1/m (dW = 1/m dZ A_prev.T)."""

    def fn(parameters, X, Y):
        m = X.shape[1]
        W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
        A1 = np.maximum(W1 @ X + b1, 0)
        A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
        dA2 = -(Y / A2 - (1 - Y) / (1 - A2))
        dZ2 = dA2 * A2 * (1 - A2)
        dA1 = W2.T @ dZ2
        dZ1 = dA1 * (A1 > 0)
        return {
            "dA2": dA2, "dZ2": dZ2, "dW2": dZ2 @ A1.T / m, "db2": dZ2.sum(1, keepdims=True) / m,
            "dA1": dA1, "dZ1": dZ1, "dW1": dZ1 @ X.T / m, "db1": dZ1.sum(1, keepdims=True) / m,
            "dA0": W1.T @ dZ1,
        }  # fmt: skip

    args = ([5, 4, 1], ["relu", "sigmoid"], "binary_cross_entropy")
    report = check_backprop(fn, *args, convention="deeplearning.ai", tensorflow=False)
    assert report.ok, str(report)
    # the same intermediates read as d(cost)/dz are m = 8 times too large
    wrong = check_backprop(
        fn, *args, convention="deeplearning.ai", intermediates="cost", tensorflow=False
    )
    assert wrong.first_failure.name == "dA2"


def test_grads_loss_pair_the_wrong_way_round_is_read_with_a_note():
    def fn(weights, X, Y):
        dW1, db1, dW2, db2, *_, a2 = _rows_mse(*weights, X, Y)
        return [dW1, db1, dW2, db2], float(np.mean((a2 - Y) ** 2))

    report = check_backprop(fn, [4, 6, 3], ["tanh", "linear"], "mse", tensorflow=False)
    assert report.ok and [r.name for r in report.rows][0] == "loss", str(report)
    assert any("(grads, loss)" in s for s in report.diagnosis)


def test_gradients_in_another_byte_order_match():
    def fn(weights, X, Y):
        return [g.astype(">f8") for g in _rows_mse(*weights, X, Y)[:4]]

    report = check_backprop(fn, [4, 6, 3], ["tanh", "linear"], "mse", tensorflow=False)
    assert report.ok, str(report)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"batch": 10**9}, r"batch: a batch of 1000000000 .* needs .*more than"),
        ({"labels": "int"}, r"labels: 'int' class ids need a softmax or categorical"),
        (
            {"convention": "nielsen", "bias_shape": "flat"},
            r"bias_shape: 'flat' \(n_out,\) does not broadcast",
        ),
        ({"convention": "keras", "bias_shape": "column"}, r"bias_shape: 'column'"),
        ({"use_bias": "no"}, r"use_bias: expected True or False, got 'no'"),
        (
            {"container": "tuple"},
            r"container: expected one of \['list', 'dict'\], got 'tuple'",
        ),
    ],
)
def test_impossible_settings_are_refused_naming_the_argument(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check_backprop(
            lambda w, X, Y: w, [4, 6, 3], "tanh", "mse", tensorflow=False, **kwargs
        )


def test_weights_given_as_a_dict_or_a_list():
    rng = np.random.default_rng(0)
    W = {
        "W1": rng.normal(size=(6, 4)),
        "b1": rng.normal(size=(6, 1)),
        "W2": rng.normal(size=(3, 6)),
        "b2": rng.normal(size=(3, 1)),
    }
    seen = []

    def fn(parameters, X, Y):
        seen.append({k: v.copy() for k, v in parameters.items()})
        m = X.shape[1]
        A1 = np.maximum(parameters["W1"] @ X + parameters["b1"], 0)
        A2 = 1 / (1 + np.exp(-(parameters["W2"] @ A1 + parameters["b2"])))
        dZ2 = A2 - Y
        dZ1 = parameters["W2"].T @ dZ2 * (A1 > 0)
        return {
            "dW1": dZ1 @ X.T / m,
            "db1": dZ1.sum(1, keepdims=True) / m,
            "dW2": dZ2 @ A1.T / m,
            "db2": dZ2.sum(1, keepdims=True) / m,
        }

    args = ([4, 6, 3], ["relu", "sigmoid"], "binary_cross_entropy")
    for given in (W, list(W.values())):
        report = check_backprop(
            fn, *args, convention="deeplearning.ai", weights=given, tensorflow=False
        )
        assert report.ok, str(report)
        assert all(np.array_equal(seen[-1][k], W[k]) for k in W)
