"""Golden values derived by hand from the worked examples of SEED-NOTES.

Every expected number here is computed in the test from the tutorial's data with plain
Python arithmetic (or written out as the hand derivation), never taken from refnet.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import refnet
from tests.conftest import EXACT_RTOL, assert_close

# --- PC1: parameter counts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sizes, by_hand",
    [
        # SEED-NOTES 1: (3*5 + 5*2) + (5 + 2) = 25 + 7 = 32
        ([3, 5, 2], (3 * 5 + 5 * 2) + (5 + 2)),
        # 784*256 + 256 = 200,960; 256*128 + 128 = 32,896; 128*10 + 10 = 1,290
        ([784, 256, 128, 10], 200_960 + 32_896 + 1_290),
        # 784*512 + 512 = 401,920; 512*10 + 10 = 5,130
        ([784, 512, 10], 401_920 + 5_130),
        # 784-256-128-64-10: 200,960 + 32,896 + (128*64 + 64 = 8,256) + (64*10 + 10 = 650)
        ([784, 256, 128, 64, 10], 200_960 + 32_896 + 8_256 + 650),
    ],
)
def test_parameter_count_by_hand(sizes, by_hand):
    assert refnet.count_params(sizes) == by_hand
    assert refnet.count_params("-".join(map(str, sizes))) == by_hand
    assert refnet.Network.build(sizes, seed=0).count_params() == by_hand


def test_parameter_count_totals_spelled_out():
    assert refnet.count_params([3, 5, 2]) == 32
    assert refnet.count_params([784, 256, 128, 10]) == 235_146
    assert refnet.count_params([784, 512, 10]) == 407_050


# --- SEED-NOTES 5: the chain rule, y2 = (x w1 + b1) w2 + b2 -----------------------------


def test_chain_rule_two_layer_example():
    """x = 1, w1 = 2, b1 = 1, w2 = 2, b2 = 1: y1 = 3, y2 = 7, dy2/dw1 = dy2/dy1 dy1/dw1
    = w2 x = 2.

    As a 1-1-1 linear network the loss must be L = y2 itself for dL/dw1 to be dy2/dw1.
    Keras' MSE gives dL/dy2 = 2 (y2 - t) / (n k) = 2 (7 - t) with n = k = 1, which is 1
    for the target t = 6.5. Then BP1-BP4 give, by hand:
    delta2 = dL/dz2 = 1,  delta1 = delta2 * w2 * f'(z1) = 1 * 2 * 1 = 2,
    dW1 = x * delta1 = 2 (= dy2/dw1),  db1 = 2,  dW2 = y1 * delta2 = 3,  db2 = 1.
    """
    net = refnet.Network.build([1, 1, 1], ["linear", "linear"])
    net.set_weights([[[2.0]], [1.0], [[2.0]], [1.0]])  # w1, b1, w2, b2
    res = net.gradients([[1.0]], [[6.5]], "mse")
    assert res.z[0][0, 0] == 3.0 and res.z[1][0, 0] == 7.0  # y1, y2
    assert res.delta[1][0, 0] == 1.0  # dL/dy2
    assert res.delta[0][0, 0] == 2.0  # dL/dy1 = dy2/dy1 = w2
    assert res.dW[0][0, 0] == 2.0  # dy2/dw1
    assert res.db[0][0] == 2.0
    assert res.dW[1][0, 0] == 3.0 and res.db[1][0] == 1.0
    assert res.loss == 0.25  # (7 - 6.5)^2


# --- SEED-NOTES 2, example A: one gradient-descent step of linear regression ------------

DATA_A = [(2, 3, 18), (1, 1, 10), (3, -1, 8), (-1, 1, 6), (-3, -2, -7)]  # (x1, x2, y)


def test_linear_regression_example_a_one_step():
    """y = w1 x1 + w2 x2 + b with Keras MSE L = 1/m sum (pred - y)^2, m = 5, so
    dL/dw_j = 2/m sum (pred - y) x_j and dL/db = 2/m sum (pred - y) (GD1: w' = w - lr g).

    By hand at w1 = 5, w2 = 8, b = -2: the errors pred - y are 14, 1, -3, -5, -26;
    dL/dw1 = 2/5 (28 + 1 - 9 + 5 + 78) = 41.2, dL/dw2 = 2/5 (42 + 1 + 3 - 5 + 52) = 37.2,
    dL/db = 2/5 (14 + 1 - 3 - 5 - 26) = -7.6; with lr = 0.02 the step lands at
    w1 = 4.176, w2 = 7.256, b = -1.848.
    """
    w1, w2, b, lr, m = 5.0, 8.0, -2.0, 0.02, len(DATA_A)
    err = [w1 * x1 + w2 * x2 + b - y for x1, x2, y in DATA_A]
    g_w1 = 2 / m * sum(e * x1 for e, (x1, _, _) in zip(err, DATA_A))
    g_w2 = 2 / m * sum(e * x2 for e, (_, x2, _) in zip(err, DATA_A))
    g_b = 2 / m * sum(err)
    assert err == [14.0, 1.0, -3.0, -5.0, -26.0]
    assert (g_w1, g_w2, g_b) == pytest.approx((41.2, 37.2, -7.6), rel=EXACT_RTOL)

    net = refnet.Network.build([2, 1], ["linear"])
    net.set_weights([[[w1], [w2]], [b]])
    X = np.array([[x1, x2] for x1, x2, _ in DATA_A], dtype=float)
    y = np.array([y for _, _, y in DATA_A], dtype=float)  # (5,): a column, not (5, 5)
    res = net.gradients(X, y, "mse")
    assert res.loss == pytest.approx(sum(e * e for e in err) / m, rel=EXACT_RTOL)
    assert_close(res.dW[0], [[g_w1], [g_w2]], EXACT_RTOL, "dW1 = [dL/dw1, dL/dw2]")
    assert_close(res.db[0], [g_b], EXACT_RTOL, "db1 = dL/db")

    W, bias = net.get_weights()
    net.set_weights([W - lr * res.dW[0], bias - lr * res.db[0]])  # GD1
    W, bias = net.get_weights()
    assert_close(
        W[:, 0], [w1 - lr * g_w1, w2 - lr * g_w2], EXACT_RTOL, "w after one step"
    )
    assert_close(bias, [b - lr * g_b], EXACT_RTOL, "b after one step")
    assert_close(W[:, 0], [4.176, 7.256], EXACT_RTOL, "w after one step, decimal")
    assert net.gradients(X, y, "mse").loss < res.loss  # the step went downhill


# --- SEED-NOTES 5: single sigmoid neuron, dL/dw_j = (o - t) o (1 - o) x_j ------------------


def test_single_sigmoid_neuron_textbook_gradient():
    """Textbook L = 1/2 sum_i (o_i - t_i)^2 gives dL/dw_j = sum_i (o_i - t_i) o_i (1 - o_i) x_ij.
    Keras' MSE is (1/n) sum_i (o_i - t_i)^2 with k = 1 output: the same sum times 2/n."""
    X = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 1.0, 0.0]]
    t = [1.0, 0.0, 0.5]
    w, b = [0.3, -0.2, 0.1], 0.05
    n = len(X)
    textbook_w = [0.0, 0.0, 0.0]
    textbook_b = 0.0
    for x_i, t_i in zip(X, t):
        o = 1 / (1 + math.exp(-(sum(wj * xj for wj, xj in zip(w, x_i)) + b)))
        d = (o - t_i) * o * (1 - o)
        textbook_w = [g + d * xj for g, xj in zip(textbook_w, x_i)]
        textbook_b += d

    net = refnet.Network.build([3, 1], ["sigmoid"])
    net.set_weights([[[wj] for wj in w], [b]])
    res = net.gradients(X, t, "mse")
    keras_factor = 2 / n  # Keras MSE / textbook = 2 / (n k), k = 1
    assert_close(
        res.dW[0][:, 0], [keras_factor * g for g in textbook_w], EXACT_RTOL, "dW1"
    )
    assert_close(res.db[0], [keras_factor * textbook_b], EXACT_RTOL, "db1")


def test_sigmoid_output_layer_and_hidden_delta_by_hand():
    """SEED-NOTES 5 with K sigmoid outputs and a sigmoid hidden layer, one sample:
    delta_k = (o_k - t_k) o_k (1 - o_k) (textbook), dL/dw_jk = delta_k o_j;
    hidden delta_j = o_j (1 - o_j) sum_k delta_k w_jk, dL/dw_ij = delta_j x_i.
    Keras MSE with n = 1, K = 2 scales every textbook gradient by 2 / K = 1."""
    x = [0.2, -0.4]
    W1 = [[0.1, -0.3], [0.5, 0.2]]  # W1[i][j], input i -> hidden j
    W2 = [[0.4, -0.1], [0.3, 0.6]]  # W2[j][k], hidden j -> output k
    t = [1.0, 0.0]

    def sig(v):
        return 1 / (1 + math.exp(-v))

    h = [sig(sum(x[i] * W1[i][j] for i in range(2))) for j in range(2)]
    o = [sig(sum(h[j] * W2[j][k] for j in range(2))) for k in range(2)]
    delta_out = [(o[k] - t[k]) * o[k] * (1 - o[k]) for k in range(2)]
    delta_hid = [
        h[j] * (1 - h[j]) * sum(delta_out[k] * W2[j][k] for k in range(2))
        for j in range(2)
    ]
    dW2 = [[delta_out[k] * h[j] for k in range(2)] for j in range(2)]
    dW1 = [[delta_hid[j] * x[i] for j in range(2)] for i in range(2)]

    net = refnet.Network.build([2, 2, 2], ["sigmoid", "sigmoid"])
    net.set_weights([W1, [0.0, 0.0], W2, [0.0, 0.0]])
    res = net.gradients([x], [t], "mse")
    assert_close(res.delta[1][0], delta_out, EXACT_RTOL, "delta2 (output)")
    assert_close(res.delta[0][0], delta_hid, EXACT_RTOL, "delta1 (hidden)")
    assert_close(res.dW[1], dW2, EXACT_RTOL, "dW2")
    assert_close(res.dW[0], dW1, EXACT_RTOL, "dW1")
