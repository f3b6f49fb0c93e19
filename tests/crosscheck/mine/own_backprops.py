"""Backprops written by hand, from the math, in the styles people write them.

Not generated from refnet: each function derives its own gradients in its own convention
(matrices, loops, einsum, column vectors, dicts, per-example loops). ``CORRECT`` lists the
right ones with the arguments check_backprop needs; ``BUGGY`` lists wrong ones with the
row where the check must first fail and a fragment of the diagnosis sentence.
tests/crosscheck/mine/test_own_backprops.py runs them; tests/crosscheck/mine/test_cli.py runs some from the CLI.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------------
# helpers each implementation could have written itself
# ---------------------------------------------------------------------------------


def _sig(z):
    return 1 / (1 + np.exp(-z))


def _softmax_rows(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------
# keras convention: rows, W (n_in, n_out), b (n_out,), mean reductions
# ---------------------------------------------------------------------------------


def keras_matrix_mse(weights, X, Y):
    """sigmoid hidden, linear output, L = mean over n and k of (a - y)^2."""
    W1, b1, W2, b2 = weights
    z1 = X @ W1 + b1
    a1 = _sig(z1)
    a2 = a1 @ W2 + b2
    n, k = Y.shape
    d2 = 2 * (a2 - Y) / (n * k)
    d1 = (d2 @ W2.T) * a1 * (1 - a1)
    return {
        "grads": [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)],
        "dX": d1 @ W1.T,
        "loss": float(np.mean((a2 - Y) ** 2)),
        "deltas": [d1, d2],
        "output": a2,
    }


def keras_triple_loops(weights, X, Y):
    """tanh hidden, softmax cross-entropy from logits, every sum an explicit Python loop."""
    W1, b1, W2, b2 = weights
    n, n0 = X.shape
    h, k = W2.shape
    z1 = np.zeros((n, h))
    for i in range(n):
        for j in range(h):
            s = b1[j]
            for m in range(n0):
                s += X[i, m] * W1[m, j]
            z1[i, j] = s
    a1 = np.tanh(z1)
    z2 = np.zeros((n, k))
    for i in range(n):
        for j in range(k):
            z2[i, j] = b2[j] + sum(a1[i, m] * W2[m, j] for m in range(h))
    loss, d2 = 0.0, np.zeros((n, k))
    for i in range(n):
        mx = max(z2[i])
        ex = [np.exp(v - mx) for v in z2[i]]
        tot = sum(ex)
        for j in range(k):
            p = ex[j] / tot
            loss -= Y[i, j] * np.log(p) / n
            d2[i, j] = (p - Y[i, j]) / n
    d1 = np.zeros((n, h))
    for i in range(n):
        for m in range(h):
            d1[i, m] = sum(d2[i, j] * W2[m, j] for j in range(k)) * (1 - a1[i, m] ** 2)
    dW1 = np.zeros_like(W1)
    for m in range(n0):
        for j in range(h):
            dW1[m, j] = sum(X[i, m] * d1[i, j] for i in range(n))
    dW2 = np.zeros_like(W2)
    for m in range(h):
        for j in range(k):
            dW2[m, j] = sum(a1[i, m] * d2[i, j] for i in range(n))
    db1 = np.array([sum(d1[i, j] for i in range(n)) for j in range(h)])
    db2 = np.array([sum(d2[i, j] for i in range(n)) for j in range(k)])
    return {"grads": [dW1, db1, dW2, db2], "loss": loss}


def keras_einsum_relu(weights, X, Y):
    """relu hidden, linear output, mean MSE, everything in einsum."""
    W1, b1, W2, b2 = weights
    z1 = np.einsum("ni,ij->nj", X, W1) + b1
    a1 = np.maximum(z1, 0)
    a2 = np.einsum("ni,ij->nj", a1, W2) + b2
    d2 = 2 * (a2 - Y) / Y.size
    d1 = np.einsum("nj,ij->ni", d2, W2) * (z1 > 0)
    return [
        np.einsum("ni,nj->ij", X, d1),
        np.einsum("nj->j", d1),
        np.einsum("ni,nj->ij", a1, d2),
        np.einsum("nj->j", d2),
    ]


def keras_per_example_deep(weights, X, Y):
    """3 tanh layers + linear, mean MSE, one example at a time, accumulated then / n."""
    Ws, bs = weights[::2], weights[1::2]
    n = X.shape[0]
    gW = [np.zeros_like(W) for W in Ws]
    gb = [np.zeros_like(b) for b in bs]
    for x, y in zip(X, Y):
        acts, a = [x], x
        for l, (W, b) in enumerate(zip(Ws, bs)):
            z = a @ W + b
            a = z if l == len(Ws) - 1 else np.tanh(z)
            acts.append(a)
        d = 2 * (a - y) / y.size
        for l in reversed(range(len(Ws))):
            gW[l] += np.outer(acts[l], d)
            gb[l] += d
            if l:
                d = (Ws[l] @ d) * (1 - acts[l] ** 2)
    return [g / n for pair in zip(gW, gb) for g in pair]


def keras_generic_leaky(weights, X, Y):
    """Any depth, leaky relu (slope 0.2) hidden, linear output, softmax CE, caches lists."""
    Ws, bs = weights[::2], weights[1::2]
    zs, acts = [], [X]
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = acts[-1] @ W + b
        zs.append(z)
        acts.append(z if l == len(Ws) - 1 else np.where(z > 0, z, 0.2 * z))
    n = X.shape[0]
    delta = (_softmax_rows(acts[-1]) - Y) / n
    grads = []
    for l in range(len(Ws) - 1, -1, -1):
        grads = [acts[l].T @ delta, delta.sum(axis=0)] + grads
        if l:
            delta = (delta @ Ws[l].T) * np.where(zs[l - 1] > 0, 1.0, 0.2)
    return grads


def keras_float32_sigmoid(weights, X, Y):
    """float32 throughout: sigmoid hidden, linear output, mean MSE (constants as float32)."""
    W1, b1, W2, b2 = weights
    a1 = _sig(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = (a2 - Y) * np.float32(2 / Y.size)
    d1 = (d2 @ W2.T) * a1 * (np.float32(1) - a1)
    return [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)]


def keras_bce_logits(weights, X, Y):
    """softplus hidden, binary cross-entropy from logits: mean over n and k, stable."""
    W1, b1, W2, b2 = weights
    z1 = X @ W1 + b1
    a1 = np.logaddexp(0, z1)
    z2 = a1 @ W2 + b2
    loss = np.mean(np.maximum(z2, 0) - z2 * Y + np.log1p(np.exp(-np.abs(z2))))
    d2 = (_sig(z2) - Y) / Y.size
    d1 = (d2 @ W2.T) * _sig(z1)
    return {"grads": [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)], "loss": loss}


def keras_softmax_jacobian_loop(weights, X, Y):
    """elu hidden, softmax output, categorical CE on probabilities; the softmax Jacobian
    formed per example as diag(p) - p p^T."""
    W1, b1, W2, b2 = weights
    z1 = X @ W1 + b1
    a1 = np.where(z1 > 0, z1, np.expm1(np.minimum(z1, 0)))
    p = _softmax_rows(a1 @ W2 + b2)
    n = X.shape[0]
    d2 = np.empty_like(p)
    for i in range(n):
        J = np.diag(p[i]) - np.outer(p[i], p[i])
        d2[i] = J @ (-Y[i] / p[i] / n)
    d1 = (d2 @ W2.T) * np.where(z1 > 0, 1.0, a1 + 1)
    return {"grads": [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)], "output": p}


def keras_softmax_output(weights, X, Y):
    """A softmax output layer with the softmax cross-entropy: probabilities out, the
    fused delta (p - y) / n; returns the probabilities as the output."""
    W1, b1, W2, b2 = weights
    h = np.maximum(X @ W1 + b1, 0)
    p = _softmax_rows(h @ W2 + b2)
    d2 = (p - Y) / X.shape[0]
    d1 = (d2 @ W2.T) * (h > 0)
    return {
        "grads": [X.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)],
        "output": p,
        "loss": -np.mean(np.sum(Y * np.log(p), axis=1)),
    }


def rows_torch_layout(weights, X, Y):
    """PyTorch's nn.Linear layout: rows, W (n_out, n_in), z = X W^T + b; tanh, mean MSE."""
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1.T + b1)
    a2 = a1 @ W2.T + b2
    d2 = 2 * (a2 - Y) / Y.size
    d1 = (d2 @ W2) * (1 - a1**2)
    return [d1.T @ X, d1.sum(0), d2.T @ a1, d2.sum(0)]


def rows_sum_squared(weights, X, Y):
    """L = sum over examples and outputs of (a - y)^2 (reduction sum, mse_scale sum)."""
    W1, b1, W2, b2 = weights
    a1 = _sig(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = 2 * (a2 - Y)
    d1 = d2 @ W2.T * a1 * (1 - a1)
    return {
        "loss": np.sum((a2 - Y) ** 2),
        "grads": [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)],
    }


def rows_ng_half_mean(weights, X, Y):
    """Andrew Ng's J = 1/(2m) sum_i ||a_i - y_i||^2 (mean reduction, mse_scale half_sum)."""
    W1, b1, W2, b2 = weights
    m = X.shape[0]
    A1 = np.tanh(X @ W1 + b1)
    A2 = A1 @ W2 + b2
    dZ2 = (A2 - Y) / m
    dZ1 = dZ2 @ W2.T * (1 - A1 * A1)
    return {
        "loss": np.sum((A2 - Y) ** 2) / (2 * m),
        "grads": [X.T @ dZ1, dZ1.sum(0), A1.T @ dZ2, dZ2.sum(0)],
    }


def functional_reduce(weights, X, Y):
    """Forward as a fold over layers, backward as a fold over the reversed pairs; relu."""
    from functools import reduce

    pairs = list(zip(weights[::2], weights[1::2]))

    def step(cache, Wb):
        W, b = Wb
        z = cache[-1][1] @ W + b
        a = z if len(cache) == len(pairs) else np.maximum(z, 0)
        return cache + [(z, a)]

    cache = reduce(step, pairs, [(None, X)])
    n = X.shape[0]
    delta = (_softmax_rows(cache[-1][1]) - Y) / n

    def back(acc, l):
        delta, grads = acc
        a_prev = cache[l][1]
        grads = [a_prev.T @ delta, delta.sum(0)] + grads
        if l:
            delta = delta @ pairs[l][0].T * (cache[l][0] > 0)
        return delta, grads

    return reduce(back, reversed(range(len(pairs))), (delta, []))[1]


def dict_params(weights, X, Y):
    """Parameters and gradients held in dicts, as many courses write it; sigmoid, MSE."""
    params = {
        f"{p}{l + 1}": w
        for l in range(len(weights) // 2)
        for p, w in zip("Wb", weights[2 * l : 2 * l + 2])
    }
    L = len(params) // 2
    cache = {"A0": X}
    for l in range(1, L + 1):
        cache[f"Z{l}"] = cache[f"A{l - 1}"] @ params[f"W{l}"] + params[f"b{l}"]
        cache[f"A{l}"] = cache[f"Z{l}"] if l == L else _sig(cache[f"Z{l}"])
    grads, deltas = {}, {}
    dZ = 2 * (cache[f"A{L}"] - Y) / Y.size
    for l in range(L, 0, -1):
        deltas[l] = dZ
        grads[f"dW{l}"] = cache[f"A{l - 1}"].T @ dZ
        grads[f"db{l}"] = dZ.sum(axis=0)
        if l > 1:
            A = cache[f"A{l - 1}"]
            dZ = dZ @ params[f"W{l}"].T * A * (1 - A)
    return {
        "grads": grads,
        "deltas": [deltas[l] for l in range(1, L + 1)],
        "output": cache[f"A{L}"],
    }


# ---------------------------------------------------------------------------------
# nielsen convention: columns, W (n_out, n_in), b (n_out, 1), summed 1/2 ||a - y||^2
# ---------------------------------------------------------------------------------


def nielsen_batch_matrix(weights, X, Y):
    """The whole mini-batch as a matrix of columns; sigmoid in every layer; quadratic cost."""
    Ws, bs = weights[::2], weights[1::2]
    activation, activations, zs = X, [X], []
    for W, b in zip(Ws, bs):
        z = W @ activation + b
        zs.append(z)
        activation = _sig(z)
        activations.append(activation)
    delta = (activations[-1] - Y) * _sig(zs[-1]) * (1 - _sig(zs[-1]))
    nabla_b, nabla_w = [None] * len(Ws), [None] * len(Ws)
    nabla_b[-1] = delta.sum(axis=1, keepdims=True)
    nabla_w[-1] = delta @ activations[-2].T
    for l in range(2, len(Ws) + 1):
        sp = _sig(zs[-l]) * (1 - _sig(zs[-l]))
        delta = (Ws[-l + 1].T @ delta) * sp
        nabla_b[-l] = delta.sum(axis=1, keepdims=True)
        nabla_w[-l] = delta @ activations[-l - 1].T
    return [g for pair in zip(nabla_w, nabla_b) for g in pair]


def nielsen_per_example(weights, X, Y):
    """network.py's backprop(x, y), one column vector at a time, summed over the batch."""
    Ws, bs = weights[::2], weights[1::2]
    nabla_w = [np.zeros(W.shape) for W in Ws]
    nabla_b = [np.zeros(b.shape) for b in bs]
    for j in range(X.shape[1]):
        x, y = X[:, j : j + 1], Y[:, j : j + 1]
        activation, activations, zs = x, [x], []
        for W, b in zip(Ws, bs):
            z = np.dot(W, activation) + b
            zs.append(z)
            activation = _sig(z)
            activations.append(activation)
        delta = (activations[-1] - y) * _sig(zs[-1]) * (1 - _sig(zs[-1]))
        nabla_b[-1] += delta
        nabla_w[-1] += np.dot(delta, activations[-2].transpose())
        for l in range(2, len(Ws) + 1):
            z = zs[-l]
            delta = np.dot(Ws[-l + 1].transpose(), delta) * _sig(z) * (1 - _sig(z))
            nabla_b[-l] += delta
            nabla_w[-l] += np.dot(delta, activations[-l - 1].transpose())
    return [g for pair in zip(nabla_w, nabla_b) for g in pair]


def nielsen_cross_entropy(weights, X, Y):
    """network2.py's CrossEntropyCost: sigmoid output, delta = a - y, summed cost."""
    W1, b1, W2, b2 = weights
    a1 = _sig(W1 @ X + b1)
    a2 = _sig(W2 @ a1 + b2)
    cost = np.sum(np.nan_to_num(-Y * np.log(a2) - (1 - Y) * np.log(1 - a2)))
    d2 = a2 - Y
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    return {
        "loss": cost,
        "output": a2,
        "grads": [
            d1 @ X.T,
            d1.sum(1, keepdims=True),
            d2 @ a1.T,
            d2.sum(1, keepdims=True),
        ],
    }


def nielsen_deep_with_deltas(weights, X, Y):
    """Four layers, tanh hidden, linear output, returns deltas (columns) too."""
    Ws, bs = weights[::2], weights[1::2]
    a, acts, zs = X, [X], []
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = W @ a + b
        a = z if l == len(Ws) - 1 else np.tanh(z)
        zs.append(z)
        acts.append(a)
    deltas = [None] * len(Ws)
    deltas[-1] = a - Y
    for l in range(len(Ws) - 2, -1, -1):
        deltas[l] = (Ws[l + 1].T @ deltas[l + 1]) * (1 - acts[l + 1] ** 2)
    grads = []
    for l in range(len(Ws)):
        grads += [deltas[l] @ acts[l].T, deltas[l].sum(axis=1, keepdims=True)]
    return {
        "grads": grads,
        "deltas": deltas,
        "output": a,
        "loss": 0.5 * np.sum((a - Y) ** 2),
    }


def columns_in_out(weights, X, Y):
    """Columns of samples but W stored (n_in, n_out): z = W^T a + b; sigmoid, half-sum MSE."""
    W1, b1, W2, b2 = weights
    a1 = _sig(W1.T @ X + b1)
    a2 = W2.T @ a1 + b2
    d2 = a2 - Y
    d1 = (W2 @ d2) * a1 * (1 - a1)
    return [X @ d1.T, d1.sum(1, keepdims=True), a1 @ d2.T, d2.sum(1, keepdims=True)]


# ---------------------------------------------------------------------------------
# cs231n convention: rows, mean softmax loss, reg * sum(W^2)
# ---------------------------------------------------------------------------------


def cs231n_two_layer(params, X, y):
    """TwoLayerNet.loss as the assignment writes it: self.params a dict, y class ids
    (N,); relu hidden, softmax loss averaged over N, reg * sum(W^2)."""
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    reg = 0.05
    N = X.shape[0]
    h = np.maximum(0, X.dot(W1) + b1)
    scores = h.dot(W2) + b2
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).sum() / N
    loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    grads = {"W2": h.T.dot(dscores) + 2 * reg * W2, "b2": dscores.sum(axis=0)}
    dh = dscores.dot(W2.T)
    dh[h <= 0] = 0
    grads["W1"] = X.T.dot(dh) + 2 * reg * W1
    grads["b1"] = dh.sum(axis=0)
    return loss, grads


def cs231n_half_reg(weights, X, Y):
    """The older assignment's 0.5 * reg * sum(W^2) (l2_form half_sum), tanh hidden."""
    W1, b1, W2, b2 = weights
    reg = 0.1
    N = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    probs = _softmax_rows(h @ W2 + b2)
    loss = -np.sum(Y * np.log(probs)) / N + 0.5 * reg * (np.sum(W1**2) + np.sum(W2**2))
    ds = (probs - Y) / N
    dh = ds @ W2.T * (1 - h**2)
    return loss, {
        "W1": X.T @ dh + reg * W1,
        "b1": dh.sum(0),
        "W2": h.T @ ds + reg * W2,
        "b2": ds.sum(0),
    }


# ---------------------------------------------------------------------------------
# Buggy implementations: each one mistake
# ---------------------------------------------------------------------------------


def bug_nielsen_no_sigmoid_prime(weights, X, Y):
    """Per-example Nielsen code that forgets sigmoid_prime in the hidden layer (BP2)."""
    W1, b1, W2, b2 = weights
    gW1, gb1, gW2, gb2 = (np.zeros(w.shape) for w in weights)
    for j in range(X.shape[1]):
        x, y = X[:, [j]], Y[:, [j]]
        a1 = _sig(W1 @ x + b1)
        a2 = _sig(W2 @ a1 + b2)
        d2 = (a2 - y) * a2 * (1 - a2)
        d1 = W2.T @ d2  # sigmoid_prime(z1) forgotten
        gW2, gb2 = gW2 + d2 @ a1.T, gb2 + d2
        gW1, gb1 = gW1 + d1 @ x.T, gb1 + d1
    return [gW1, gb1, gW2, gb2]


def bug_cs231n_no_reg_grad(params, X, y):
    """CS231n net whose loss has reg * sum(W^2) but whose dW forgets 2 reg W (LS6)."""
    loss, grads = cs231n_two_layer(params, X, y)
    grads["W2"] = grads["W2"] - 2 * 0.05 * params["W2"]
    grads["W1"] = grads["W1"] - 2 * 0.05 * params["W1"]
    return loss, grads


def bug_cs231n_no_divide(params, X, y):
    """CS231n net that forgets dscores /= N (its loss is right)."""
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    N = X.shape[0]
    Y = np.eye(W2.shape[1])[y]
    h = np.maximum(0, X @ W1 + b1)
    probs = _softmax_rows(h @ W2 + b2)
    loss = -np.sum(Y * np.log(probs)) / N
    # / N missing
    ds = probs - Y
    dh = ds @ W2.T * (h > 0)
    return loss, {"W1": X.T @ dh, "b1": dh.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}


def bug_bias_mean(weights, X, Y):
    """keras_matrix_mse with db = mean of delta over the batch (BP3)."""
    out = keras_matrix_mse(weights, X, Y)
    d1, d2 = out["deltas"]
    out["grads"][1], out["grads"][3] = d1.mean(0), d2.mean(0)
    return out


def bug_relu_prime_at_zero(weights, X, Y):
    """relu'(z) written as z >= 0: relu'(0) = 1 (only entries with z == 0 differ)."""
    W1, b1, W2, b2 = weights
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    a2 = a1 @ W2 + b2
    d2 = (_softmax_rows(a2) - Y) / X.shape[0]
    d1 = d2 @ W2.T * (z1 >= 0)
    return {"grads": [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)], "deltas": [d1, d2]}


def bug_nielsen_averaged(weights, X, Y):
    """Nielsen's column code that divides by the batch size (a mean, not his sum)."""
    grads = nielsen_batch_matrix(weights, X, Y)
    return [g / X.shape[1] for g in grads]


def bug_sign(weights, X, Y):
    """Returns the descent direction -dL/dW instead of the gradient."""
    return [-g for g in keras_einsum_relu(weights, X, Y)]


def bug_stale_weights(weights, X, Y):
    """Updates W2 in place (SGD, eta 0.5) before using it to send delta back (BP2)."""
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = 2 * (a2 - Y) / Y.size
    dW2 = a1.T @ d2
    W2 -= 0.5 * dW2  # the update, too early
    d1 = d2 @ W2.T * (1 - a1**2)
    return [X.T @ d1, d1.sum(0), dW2, d2.sum(0)]


def bug_prime_at_a(weights, X, Y):
    """tanh' evaluated at the activation: 1 - tanh(a)^2 where 1 - tanh(z)^2 = 1 - a^2."""
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = 2 * (a2 - Y) / Y.size
    d1 = d2 @ W2.T * (1 - np.tanh(a1) ** 2)
    return {"grads": [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)], "deltas": [d1, d2]}


def bug_z_in_bp4(weights, X, Y):
    """Three layers; dW3 built from z2 instead of a2 (BP4)."""
    W1, b1, W2, b2, W3, b3 = weights
    z1 = X @ W1 + b1
    a1 = _sig(z1)
    z2 = a1 @ W2 + b2
    a2 = _sig(z2)
    a3 = a2 @ W3 + b3
    d3 = 2 * (a3 - Y) / Y.size
    d2 = d3 @ W3.T * a2 * (1 - a2)
    d1 = d2 @ W2.T * a1 * (1 - a1)
    return [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0), z2.T @ d3, d3.sum(0)]


def bug_db_not_summed(weights, X, Y):
    """db returned per example, (n, n_l): the sum over the batch forgotten (BP3)."""
    out = keras_matrix_mse(weights, X, Y)
    d1, d2 = out["deltas"]
    return [out["grads"][0], d1, out["grads"][2], d2]


def bug_softmax_diagonal(weights, X, Y):
    """Softmax output with categorical CE, but the Jacobian reduced to p (1 - p) (SM1)."""
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    p = _softmax_rows(a1 @ W2 + b2)
    g = -Y / p / X.shape[0]
    d2 = g * p * (1 - p)
    d1 = d2 @ W2.T * (1 - a1**2)
    return [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)]


def bug_dw_transposed(weights, X, Y):
    """dW2 = delta2.T @ a1 (square W2, so the shape fits): BP4 transposed."""
    out = keras_matrix_mse(weights, X, Y)
    d1, d2 = out["deltas"]
    a1 = _sig(X @ weights[0] + weights[1])
    out["grads"][2] = d2.T @ a1
    return out["grads"]


def bug_wrong_layer_activation(weights, X, Y):
    """dW2 = a2.T @ delta2: the layer's own output where its input a1 belongs (BP4)."""
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = 2 * (a2 - Y) / Y.size
    d1 = d2 @ W2.T * (1 - a1**2)
    return [X.T @ d1, d1.sum(0), a2.T @ d2, d2.sum(0)]


def bug_raises(weights, X, Y):
    """Mixes up the layout: multiplies W1 (n_in, n_out) from the left."""
    W1, b1, W2, b2 = weights
    z1 = W1 @ X  # ValueError: shapes do not align
    return [z1]


def bug_float64_constant(weights, X, Y):
    """A float32 net whose delta picks up a float64 array (np.ones defaults to float64)."""
    grads = keras_float32_sigmoid(weights, X, Y)
    return [g * np.ones(g.shape) for g in grads]


# ---------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------

# (fn, sizes, activations, loss, keyword arguments of check_backprop)
CORRECT = [
    (keras_matrix_mse, [4, 6, 3], ["sigmoid", "linear"], "mse", {}),
    (keras_triple_loops, [3, 4, 3], ["tanh", "linear"], "softmax_cross_entropy", {"batch": 5}),
    (keras_einsum_relu, [5, 7, 2], ["relu", "linear"], "mse", {}),
    (keras_per_example_deep, [4, 6, 5, 5, 2], ["tanh"] * 3 + ["linear"], "mse", {}),
    (keras_generic_leaky, [6, 8, 7, 4], ["leaky_relu"] * 2 + ["linear"], "softmax_cross_entropy", {}),
    (keras_float32_sigmoid, [4, 6, 3], ["sigmoid", "linear"], "mse", {"dtype": "float32"}),
    (keras_bce_logits, [4, 5, 3], ["softplus", "linear"], "binary_cross_entropy", {}),
    (keras_softmax_jacobian_loop, [4, 6, 3], ["elu", "softmax"], "categorical_cross_entropy", {}),
    (keras_softmax_output, [5, 7, 4], ["relu", "softmax"], "softmax_cross_entropy", {}),
    (rows_torch_layout, [4, 6, 3], ["tanh", "linear"], "mse", {"weights_layout": "out_in"}),
    (rows_sum_squared, [4, 6, 3], ["sigmoid", "linear"], "mse", {"reduction": "sum", "mse_scale": "sum"}),
    (rows_ng_half_mean, [4, 6, 3], ["tanh", "linear"], "mse", {"mse_scale": "half_sum"}),
    (functional_reduce, [5, 6, 6, 3], ["relu", "relu", "linear"], "softmax_cross_entropy", {}),
    (dict_params, [4, 5, 6, 2], ["sigmoid", "sigmoid", "linear"], "mse", {}),
    (nielsen_batch_matrix, [4, 6, 3], "sigmoid", "mse", {"convention": "nielsen"}),
    (nielsen_batch_matrix, [784, 30, 10], "sigmoid", "mse", {"convention": "nielsen", "batch": 10}),
    (nielsen_per_example, [5, 7, 4, 3], "sigmoid", "mse", {"convention": "nielsen"}),
    (nielsen_cross_entropy, [4, 6, 3], "sigmoid", "binary_cross_entropy", {"convention": "nielsen"}),
    (nielsen_deep_with_deltas, [3, 5, 5, 4, 2], ["tanh"] * 3 + ["linear"], "mse", {"convention": "nielsen"}),
    (columns_in_out, [4, 6, 3], ["sigmoid", "linear"], "mse", {"convention": "nielsen", "weights_layout": "in_out"}),
    (cs231n_two_layer, [6, 10, 4], ["relu", "linear"], "softmax_cross_entropy", {"convention": "cs231n", "l2": 0.05}),
    (cs231n_half_reg, [6, 10, 4], ["tanh", "linear"], "softmax_cross_entropy", {"convention": "cs231n", "l2": 0.1, "l2_form": "half_sum", "container": "list", "labels": "onehot"}),
]  # fmt: skip


def _zero_rows_X(sizes):
    X = np.random.default_rng(3).normal(size=(6, sizes[0]))
    X[::2] = 0.0  # z[1] = b[1] = 0 exactly on these rows (glorot init has b = 0)
    return X


# (fn, sizes, activations, loss, kwargs, first failing row, fragment of the sentence)
BUGGY = [
    (bug_nielsen_no_sigmoid_prime, [4, 6, 3], "sigmoid", "mse", {"convention": "nielsen"}, "dW1", "the f'(z[1]) factor of BP2 is missing"),
    (bug_cs231n_no_reg_grad, [6, 10, 4], ["relu", "linear"], "softmax_cross_entropy", {"convention": "cs231n", "l2": 0.05}, "dW2", "the L2 term 2 l2 W is missing"),
    (bug_cs231n_no_divide, [6, 10, 4], ["relu", "linear"], "softmax_cross_entropy", {"convention": "cs231n"}, "dW2", "times n = 8: your cost sums over the batch"),
    (bug_bias_mean, [4, 6, 3], ["sigmoid", "linear"], "mse", {}, "db2", "mean over the batch of delta2"),
    (bug_relu_prime_at_zero, [4, 6, 3], ["relu", "linear"], "softmax_cross_entropy", {"X": _zero_rows_X([4])}, "delta1", "relu'(0) is taken as 1"),
    (bug_nielsen_averaged, [4, 6, 3], "sigmoid", "mse", {"convention": "nielsen"}, "dW2", "divided by n = 8: your cost averages over the batch"),
    (bug_sign, [5, 7, 2], ["relu", "linear"], "mse", {}, "dW2", "opposite sign"),
    (bug_stale_weights, [4, 6, 3], ["tanh", "linear"], "mse", {}, "dW1", "uses an updated W2"),
    (bug_prime_at_a, [4, 6, 3], ["tanh", "linear"], "mse", {}, "delta1", "f' is evaluated at a[1] instead of z[1]"),
    (bug_z_in_bp4, [4, 6, 5, 3], ["sigmoid", "sigmoid", "linear"], "mse", {}, "dW3", "BP4 uses z[2] where a[2] belongs"),
    (bug_db_not_summed, [4, 6, 3], ["sigmoid", "linear"], "mse", {}, "db2", "not summed over the batch"),
    (bug_softmax_diagonal, [4, 6, 3], ["tanh", "softmax"], "categorical_cross_entropy", {}, "dW2", "Jacobian is taken as its diagonal"),
    (bug_float64_constant, [4, 6, 3], ["sigmoid", "linear"], "mse", {"dtype": "float32"}, "dW2", "dtype float64, expected float32"),
    # convention mismatches: right code, wrong convention given
    (keras_matrix_mse, [4, 6, 3], ["sigmoid", "linear"], "mse", {"reduction": "sum"}, "loss", "divided by n = 8: your cost averages over the batch; use reduction='mean'"),
    (rows_sum_squared, [4, 6, 3], ["sigmoid", "linear"], "mse", {"mse_scale": "sum"}, "loss", "times n = 8: your cost sums over the batch; use reduction='sum'"),
    (rows_ng_half_mean, [4, 6, 3], ["tanh", "linear"], "mse", {}, "loss", "mse_scale='half_sum'"),
    (keras_matrix_mse, [4, 6, 3], ["sigmoid", "linear"], "mse", {"convention": "nielsen", "samples": "rows", "bias_shape": "flat", "weights_layout": "in_out", "reduction": "mean"}, "loss", "mse_scale='mean'"),
    (bug_wrong_layer_activation, [4, 6, 6], ["tanh", "linear"], "mse", {}, "dW2", "BP4 uses the wrong layer's activation a[2] where a[1] belongs"),
    (bug_dw_transposed, [4, 6, 6], ["sigmoid", "linear"], "mse", {}, "dW2", "dW2 is transposed"),
]  # fmt: skip
