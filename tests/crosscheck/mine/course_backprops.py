"""Backprops written the way five courses' students write them, for the course presets.

Each section follows one course's own code: its variable names, shapes, caches, loops and
cost, from the course material (deeplearning.ai's assignments, d2l's chapter 4.7, Prince's
Understanding Deep Learning notebook 7.2, the nnfs book's classes, CS231n's assignments
and notes). check_backprop always calls ``fn(weights, X, Y)``; a course's own signature is
reached only by unpacking inside ``fn`` (``all_weights, all_biases = weights[::2],
weights[1::2]``), never by a converting wrapper.

``CORRECT`` lists the right ones with check_backprop's arguments; ``BUGGY`` the wrong
ones, each with the row where the check must first fail and a fragment of the diagnosis
sentence, as the course's own math says it (deeplearning.ai's gradient-checking notebook
plants dW2 "* 2" and db1 "4./m": twice, and four times, the right value).
tests/crosscheck/mine/test_course_backprops.py runs them.
"""

from __future__ import annotations

import numpy as np

# =================================================================================
# deeplearning.ai, course 1 week 4 ("Building your Deep Neural Network: Step by
# Step"): columns, W (n_l, n_{l-1}), b (n_l, 1), the parameters dict, caches;
# cost -1/m sum(Y log AL + (1 - Y) log(1 - AL)); dAL has no 1/m, linear_backward
# applies it to dW and db
# =================================================================================


def sigmoid(Z):
    A = 1 / (1 + np.exp(-Z))
    cache = Z
    return A, cache


def relu(Z):
    A = np.maximum(0, Z)
    cache = Z
    return A, cache


def relu_backward(dA, cache):
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA, cache):
    Z = cache
    s = 1 / (1 + np.exp(-Z))
    dZ = dA * s * (1 - s)
    return dZ


def sigmoid_backward_from_Z(dA, cache):
    """The bug: s (1 - s) written with Z where s = sigmoid(Z) belongs."""
    Z = cache
    dZ = dA * Z * (1 - Z)
    return dZ


def linear_forward(A, W, b):
    Z = np.dot(W, A) + b
    cache = (A, W, b)
    return Z, cache


def linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = linear_forward(A_prev, W, b)
    if activation == "sigmoid":
        A, activation_cache = sigmoid(Z)
    elif activation == "relu":
        A, activation_cache = relu(Z)
    cache = (linear_cache, activation_cache)
    return A, cache


def L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A_prev = A
        A, cache = linear_activation_forward(
            A_prev, parameters["W" + str(l)], parameters["b" + str(l)], "relu"
        )
        caches.append(cache)
    AL, cache = linear_activation_forward(
        A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid"
    )
    caches.append(cache)
    return AL, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    cost = (1.0 / m) * (-np.dot(Y, np.log(AL).T) - np.dot(1 - Y, np.log(1 - AL).T))
    cost = np.squeeze(cost)
    return cost


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1.0 / m * np.dot(dZ, A_prev.T)
    db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def linear_activation_backward(
    dA, cache, activation, sigmoid_backward=sigmoid_backward
):
    linear_cache, activation_cache = cache
    if activation == "relu":
        dZ = relu_backward(dA, activation_cache)
    elif activation == "sigmoid":
        dZ = sigmoid_backward(dA, activation_cache)
    dA_prev, dW, db = linear_backward(dZ, linear_cache)
    return dA_prev, dW, db


def L_model_backward(AL, Y, caches, sigmoid_backward=sigmoid_backward):
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    current_cache = caches[L - 1]
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = (
        linear_activation_backward(dAL, current_cache, "sigmoid", sigmoid_backward)
    )
    for l in reversed(range(L - 1)):
        current_cache = caches[l]
        dA_prev_temp, dW_temp, db_temp = linear_activation_backward(
            grads["dA" + str(l + 1)], current_cache, "relu"
        )
        grads["dA" + str(l)] = dA_prev_temp
        grads["dW" + str(l + 1)] = dW_temp
        grads["db" + str(l + 1)] = db_temp
    return grads


def dlai_L_layer(parameters, X, Y):
    """One iteration of L_layer_model: forward, cost, backward; (cost, grads) with
    grads holding dA0 .. dA<L-1>, dW<l>, db<l> as L_model_backward fills it."""
    AL, caches = L_model_forward(X, parameters)
    cost = compute_cost(AL, Y)
    grads = L_model_backward(AL, Y, caches)
    return cost, grads


def dlai_two_layer_model(parameters, X, Y):
    """Week 4's two_layer_model (LINEAR -> RELU -> LINEAR -> SIGMOID), here with several
    sigmoid outputs and the cost summed over every entry of Y, as week 2's
    -1/m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) writes it."""
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    m = X.shape[1]
    A1, cache1 = linear_activation_forward(X, W1, b1, "relu")
    A2, cache2 = linear_activation_forward(A1, W2, b2, "sigmoid")
    cost = -1 / m * np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    dA2 = -(np.divide(Y, A2) - np.divide(1 - Y, 1 - A2))
    dA1, dW2, db2 = linear_activation_backward(dA2, cache2, "sigmoid")
    dA0, dW1, db1 = linear_activation_backward(dA1, cache1, "relu")
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dA1": dA1, "dA0": dA0}
    return cost, grads


def bug_dlai_sigmoid_backward_from_Z(parameters, X, Y):
    """L_model_backward whose sigmoid_backward writes dA * Z * (1 - Z)."""
    AL, caches = L_model_forward(X, parameters)
    return L_model_backward(AL, Y, caches, sigmoid_backward_from_Z)


# --- course 1 week 3 ("Planar data classification with one hidden layer"): tanh hidden,
# sigmoid output, grads dW1, db1, dW2, db2 --------------------------------------------


def planar_forward_propagation(X, parameters):
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = 1 / (1 + np.exp(-Z2))
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache


def planar_compute_cost(A2, Y):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
    cost = -np.sum(logprobs) / m
    return float(np.squeeze(cost))


def planar_backward_propagation(parameters, cache, X, Y, tanh_from_Z=False):
    m = X.shape[1]
    W2 = parameters["W2"]
    A1 = cache["A1"]
    A2 = cache["A2"]
    dZ2 = A2 - Y
    dW2 = (1 / m) * np.dot(dZ2, A1.T)
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    if tanh_from_Z:  # the bug: 1 - a^2 written with Z1 where A1 belongs
        dZ1 = np.multiply(np.dot(W2.T, dZ2), 1 - np.power(cache["Z1"], 2))
    else:
        dZ1 = np.multiply(np.dot(W2.T, dZ2), 1 - np.power(A1, 2))
    dW1 = (1 / m) * np.dot(dZ1, X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    return grads


def dlai_planar_tanh(parameters, X, Y):
    A2, cache = planar_forward_propagation(X, parameters)
    cost = planar_compute_cost(A2, Y)
    grads = planar_backward_propagation(parameters, cache, X, Y)
    return cost, grads


def bug_dlai_planar_tanh_from_Z(parameters, X, Y):
    A2, cache = planar_forward_propagation(X, parameters)
    return planar_backward_propagation(parameters, cache, X, Y, tanh_from_Z=True)


# --- course 2 week 1: "Regularization" (L2) and "Gradient Checking" (3 layers, relu,
# relu, sigmoid; gradients dict with dZ<l>, dA<l>, as the notebooks return it) ------


def _three_layer_forward(X, parameters):
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    W3 = parameters["W3"]
    b3 = parameters["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.maximum(0, Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = np.maximum(0, Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = 1 / (1 + np.exp(-Z3))
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return A3, cache


def compute_cost_with_regularization(A3, Y, parameters, lambd):
    m = Y.shape[1]
    W1 = parameters["W1"]
    W2 = parameters["W2"]
    W3 = parameters["W3"]
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cross_entropy_cost = 1.0 / m * np.nansum(logprobs)
    L2_regularization_cost = (
        (1 / m)
        * (lambd / 2)
        * (np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3)))
    )
    return cross_entropy_cost + L2_regularization_cost


def backward_propagation_with_regularization(X, Y, cache, lambd):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T) + (lambd / m) * W3
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T) + (lambd / m) * W2
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T) + (lambd / m) * W1
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
    gradients = {
        "dZ3": dZ3,
        "dW3": dW3,
        "db3": db3,
        "dA2": dA2,
        "dZ2": dZ2,
        "dW2": dW2,
        "db2": db2,
        "dA1": dA1,
        "dZ1": dZ1,
        "dW1": dW1,
        "db1": db1,
    }
    return gradients


LAMBD = 0.7  # the notebook's lambd


def dlai_l2_regularization(parameters, X, Y):
    """Cost + (1/m)(lambd/2) sum ||W||^2 and its gradients: l2 = lambd/m, half_sum."""
    A3, cache = _three_layer_forward(X, parameters)
    cost = compute_cost_with_regularization(A3, Y, parameters, LAMBD)
    grads = backward_propagation_with_regularization(X, Y, cache, LAMBD)
    return cost, grads


def backward_propagation_n(X, Y, cache, plants=("dW2 * 2", "db1 4./m")):
    """The gradient-checking notebook's backward_propagation_n, with its two plants
    (the student's task is to find them); ``plants=()`` is the corrected one."""
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T) * (2 if "dW2 * 2" in plants else 1)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    if "relu mask of layer 2" in plants:
        dZ1 = np.multiply(dA1, np.int64(A2 > 0))
    else:
        dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = (
        (4.0 if "db1 4./m" in plants else 1.0) / m * np.sum(dZ1, axis=1, keepdims=True)
    )
    gradients = {
        "dZ3": dZ3,
        "dW3": dW3,
        "db3": db3,
        "dA2": dA2,
        "dZ2": dZ2,
        "dW2": dW2,
        "db2": db2,
        "dA1": dA1,
        "dZ1": dZ1,
        "dW1": dW1,
        "db1": db1,
    }
    return gradients


def forward_propagation_n(X, Y, parameters):
    m = X.shape[1]
    A3, cache = _three_layer_forward(X, parameters)
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1.0 / m * np.sum(logprobs)
    return cost, cache


def dlai_gradient_check_fixed(parameters, X, Y):
    cost, cache = forward_propagation_n(X, Y, parameters)
    return cost, backward_propagation_n(X, Y, cache, plants=())


def bug_dlai_gradient_check_notebook(parameters, X, Y):
    """As the notebook hands it out: dW2 * 2 and db1 4./m."""
    cost, cache = forward_propagation_n(X, Y, parameters)
    return cost, backward_propagation_n(X, Y, cache)


def bug_dlai_db1_four_over_m(parameters, X, Y):
    """dW2 fixed, db1 = 4./m * np.sum(dZ1, ...) left."""
    cost, cache = forward_propagation_n(X, Y, parameters)
    return cost, backward_propagation_n(X, Y, cache, plants=("db1 4./m",))


def bug_dlai_relu_mask_of_layer_2(parameters, X, Y):
    """dZ1 = dA1 * np.int64(A2 > 0): the mask copied from the line above."""
    cost, cache = forward_propagation_n(X, Y, parameters)
    return cost, backward_propagation_n(X, Y, cache, plants=("relu mask of layer 2",))


# =================================================================================
# d2l, chapter 4.7 (forward propagation, backward propagation, computational graphs):
# columns, no bias: z = W1 x, h = phi(z), o = W2 h, L = l(o, y) averaged over the
# batch with l = 1/2 (o - y)^2, s = lambda/2 (||W1||^2 + ||W2||^2), J = L + s
# =================================================================================

D2L_LAMBDA = 0.1


def d2l_matrix_relu(params, X, Y, lambd=D2L_LAMBDA):
    """The chapter's derivation for a minibatch of columns, phi = relu; [dJ/dW1, dJ/dW2]."""
    W1, W2 = params
    n = X.shape[1]
    z = W1 @ X  # (h, n)
    h = np.maximum(z, 0)
    o = W2 @ h  # (q, n)
    dJ_do = (o - Y) / n  # dL/do, the batch mean's 1/n
    dJ_dW2 = dJ_do @ h.T + lambd * W2  # dJ/do h^T + ds/dW2
    dJ_dh = W2.T @ dJ_do
    dJ_dz = dJ_dh * (z > 0)  # dJ/dh (.) phi'(z)
    dJ_dW1 = dJ_dz @ X.T + lambd * W1
    return [dJ_dW1, dJ_dW2]


def d2l_per_example(params, X, Y, lambd=D2L_LAMBDA):
    """One example x (d,) at a time as the chapter writes it, phi = tanh; the
    regulariser's gradient added once; a dict."""
    W1, W2 = params
    n = X.shape[1]
    grad_W1, grad_W2 = np.zeros_like(W1), np.zeros_like(W2)
    for i in range(n):
        x, y = X[:, i], Y[:, i]
        z = W1 @ x
        h = np.tanh(z)
        o = W2 @ h
        dL_do = o - y
        grad_W2 += np.outer(dL_do, h) / n
        dL_dz = (W2.T @ dL_do) * (1 - h**2)
        grad_W1 += np.outer(dL_dz, x) / n
    return {"W1": grad_W1 + lambd * W1, "W2": grad_W2 + lambd * W2}


def d2l_with_intermediates(params, X, Y, lambd=D2L_LAMBDA):
    """phi = sigmoid; returns J and every node of the computational graph: dJ/do (dA2),
    dJ/dh (dA1), dJ/dz (dZ1), as the chapter's figure 4.7.1 names them."""
    W1, W2 = params
    n = X.shape[1]
    z = W1 @ X
    h = 1 / (1 + np.exp(-z))
    o = W2 @ h
    L = np.sum(0.5 * (o - Y) ** 2) / n
    s = lambd / 2 * (np.sum(W1**2) + np.sum(W2**2))
    J = L + s
    dJ_do = (o - Y) / n
    dJ_dh = W2.T @ dJ_do
    dJ_dz = dJ_dh * h * (1 - h)
    grads = {
        "dA2": dJ_do,
        "dZ2": dJ_do,
        "dW2": dJ_do @ h.T + lambd * W2,
        "dA1": dJ_dh,
        "dZ1": dJ_dz,
        "dW1": dJ_dz @ X.T + lambd * W1,
    }
    return {"loss": J, "output": o, "grads": grads}


def d2l_deep_loop(params, X, Y, lambd=0.01):
    """The same graph for any depth: a loop over the layers, phi = relu, o linear."""
    Ws = list(params)
    n = X.shape[1]
    zs, hs = [], [X]
    for k, W in enumerate(Ws):
        z = W @ hs[-1]
        zs.append(z)
        hs.append(z if k == len(Ws) - 1 else np.maximum(z, 0))
    grad = (hs[-1] - Y) / n  # dJ/do
    grads = [None] * len(Ws)
    for k in reversed(range(len(Ws))):
        grads[k] = grad @ hs[k].T + lambd * Ws[k]
        if k:
            grad = (Ws[k].T @ grad) * (zs[k - 1] > 0)
    return grads


def bug_d2l_no_decay_in_W1(params, X, Y, lambd=D2L_LAMBDA):
    """ds/dW1 = lambda W1 left out of dJ/dW1 (dJ/dW2 has its lambda W2)."""
    dW1, dW2 = d2l_matrix_relu(params, X, Y, lambd)
    return [dW1 - lambd * params[0], dW2]


def bug_d2l_dW2_transposed(params, X, Y, lambd=D2L_LAMBDA):
    """dJ/dW2 written h (dJ/do)^T: the transpose of W2's shape."""
    W1, W2 = params
    n = X.shape[1]
    z = W1 @ X
    h = np.maximum(z, 0)
    dJ_do = (W2 @ h - Y) / n
    dJ_dz = (W2.T @ dJ_do) * (z > 0)
    return [dJ_dz @ X.T + lambd * W1, h @ dJ_do.T + lambd * W2.T]


def bug_d2l_no_phi_prime(params, X, Y, lambd=D2L_LAMBDA):
    """dJ/dz taken as dJ/dh: the elementwise phi'(z) factor left out."""
    W1, W2 = params
    n = X.shape[1]
    h = np.tanh(W1 @ X)
    dJ_do = (W2 @ h - Y) / n
    dJ_dz = W2.T @ dJ_do
    return [dJ_dz @ X.T + lambd * W1, dJ_do @ h.T + lambd * W2]


def bug_d2l_J_without_s(params, X, Y, lambd=D2L_LAMBDA):
    """Returns L as the objective J: the regulariser s left out of the value."""
    out = d2l_with_intermediates(params, X, Y, lambd)
    W1, W2 = params
    out["loss"] -= lambd / 2 * (np.sum(W1**2) + np.sum(W2**2))
    return out


# =================================================================================
# Understanding Deep Learning (Prince), notebook 7.2 (backpropagation): columns,
# all_weights[k] (D_{k+1}, D_k), all_biases[k] (D_{k+1}, 1), relu, least squares
# sum((f - y)^2), summed over the samples of the batch
# =================================================================================


def ReLU(preactivation):
    activation = preactivation.clip(0.0)
    return activation


def indicator_function(x):
    x_in = np.array(x)
    x_in[x_in > 0] = 1
    x_in[x_in <= 0] = 0
    return x_in


def forward_pass(net_input, all_weights, all_biases):
    K = len(all_weights) - 1
    all_f = [None] * (K + 1)
    all_h = [None] * (K + 1)
    all_h[0] = net_input
    for layer in range(K):
        all_f[layer] = all_biases[layer] + np.matmul(all_weights[layer], all_h[layer])
        all_h[layer + 1] = ReLU(all_f[layer])
    all_f[K] = all_biases[K] + np.matmul(all_weights[K], all_h[K])
    net_output = all_f[K]
    return net_output, all_f, all_h


def least_squares_loss(net_output, y):
    return np.sum((net_output - y) * (net_output - y))


def d_loss_d_output(net_output, y):
    return 2 * (net_output - y)


def backward_pass(all_weights, all_biases, all_f, all_h, y, mask_of="layer - 1"):
    K = len(all_weights) - 1
    all_dl_dweights = [None] * (K + 1)
    all_dl_dbiases = [None] * (K + 1)
    all_dl_df = [None] * (K + 1)
    all_dl_dh = [None] * (K + 1)
    all_dl_df[K] = np.array(d_loss_d_output(all_f[K], y))
    for layer in range(K, -1, -1):
        all_dl_dbiases[layer] = np.array(all_dl_df[layer])
        all_dl_dweights[layer] = np.matmul(all_dl_df[layer], all_h[layer].transpose())
        all_dl_dh[layer] = np.matmul(all_weights[layer].transpose(), all_dl_df[layer])
        if layer > 0:
            f = all_f[layer - 1] if mask_of == "layer - 1" else all_f[layer]
            all_dl_df[layer - 1] = indicator_function(f) * all_dl_dh[layer]
    return all_dl_dweights, all_dl_dbiases, all_dl_df


def udl_per_example(weights, X, Y, mask_of="layer - 1"):
    """The notebook's forward_pass/backward_pass, one column at a time, summed."""
    all_weights, all_biases = weights[::2], weights[1::2]
    dl_dweights = [np.zeros_like(w) for w in all_weights]
    dl_dbiases = [np.zeros_like(b) for b in all_biases]
    for i in range(X.shape[1]):
        net_input, y = X[:, i : i + 1], Y[:, i : i + 1]
        net_output, all_f, all_h = forward_pass(net_input, all_weights, all_biases)
        dw, db, _ = backward_pass(all_weights, all_biases, all_f, all_h, y, mask_of)
        for k in range(len(all_weights)):
            dl_dweights[k] += dw[k]
            dl_dbiases[k] += db[k]
    return [g for pair in zip(dl_dweights, dl_dbiases) for g in pair]


def udl_batched(weights, X, Y):
    """The whole batch as columns; all_dl_dbiases summed over the columns."""
    all_weights, all_biases = weights[::2], weights[1::2]
    net_output, all_f, all_h = forward_pass(X, all_weights, all_biases)
    dw, df, _ = backward_pass(all_weights, all_biases, all_f, all_h, Y)
    db = [np.sum(d, axis=1, keepdims=True) for d in df]
    return [g for pair in zip(dw, db) for g in pair]


def udl_batched_with_loss(weights, X, Y, two=2):
    """Batched, with the loss, the output and all_dl_df (the deltas) returned too."""
    all_weights, all_biases = weights[::2], weights[1::2]
    net_output, all_f, all_h = forward_pass(X, all_weights, all_biases)
    K = len(all_weights) - 1
    all_dl_df = [None] * (K + 1)
    all_dl_df[K] = two * (net_output - Y)
    for layer in range(K, 0, -1):
        all_dl_dh = all_weights[layer].T @ all_dl_df[layer]
        all_dl_df[layer - 1] = indicator_function(all_f[layer - 1]) * all_dl_dh
    grads = []
    for layer in range(K + 1):
        grads.append(all_dl_df[layer] @ all_h[layer].T)
        grads.append(np.sum(all_dl_df[layer], axis=1, keepdims=True))
    return {
        "loss": least_squares_loss(net_output, Y),
        "output": net_output,
        "deltas": all_dl_df,
        "grads": grads,
    }


def udl_chapter7_symbols(weights, X, Y):
    """Chapter 7's symbols: beta_k, Omega_k, f_k, h_k, and the backward equations
    dl/dbeta_k = dl/df_k, dl/dOmega_k = dl/df_k h_k^T, dl/df_{k-1} = I[f_{k-1} > 0]
    (.) Omega_k^T dl/df_k; a dict dOmega<k>/dbeta<k> renamed dW/db."""
    Omega, beta = weights[::2], weights[1::2]
    h, f = [X], []
    for k, (Om, be) in enumerate(zip(Omega, beta)):
        f.append(be + Om @ h[-1])
        if k < len(Omega) - 1:
            h.append(np.where(f[-1] > 0, f[-1], 0.0))
    dl_df = 2 * (f[-1] - Y)
    grads = {}
    for k in range(len(Omega), 0, -1):
        grads[f"dW{k}"] = dl_df @ h[k - 1].T
        grads[f"db{k}"] = dl_df.sum(axis=1, keepdims=True)
        if k > 1:
            dl_df = (f[k - 2] > 0) * (Omega[k - 1].T @ dl_df)
    return grads


def bug_udl_no_two(weights, X, Y):
    """d_loss_d_output written (net_output - y): the 2 of the square's derivative lost."""
    return udl_batched_with_loss(weights, X, Y, two=1)


def bug_udl_biases_not_summed(weights, X, Y):
    """The notebook's all_dl_dbiases[layer] = np.array(all_dl_df[layer]) run on a whole
    batch: one column per example, never summed."""
    all_weights, all_biases = weights[::2], weights[1::2]
    net_output, all_f, all_h = forward_pass(X, all_weights, all_biases)
    dw, db, _ = backward_pass(all_weights, all_biases, all_f, all_h, Y)
    return [g for pair in zip(dw, db) for g in pair]


def bug_udl_mask_of_next_layer(weights, X, Y):
    """indicator_function(all_f[layer]) where all_f[layer - 1] belongs."""
    return udl_per_example(weights, X, Y, mask_of="layer")


def bug_udl_averaged(weights, X, Y):
    """Divides by the batch size, although the least squares loss sums over it."""
    return [g / X.shape[1] for g in udl_batched(weights, X, Y)]


# =================================================================================
# Neural Networks from Scratch (nnfs): rows, weights (n_inputs, n_neurons), biases
# (1, n_neurons), dinputs/dweights/dbiases; sparse class ids y; the combined softmax
# and categorical cross-entropy's gradient divided by the number of samples
# =================================================================================


class Layer_Dense:
    def __init__(
        self, n_inputs, n_neurons, weight_regularizer_l2=0, bias_regularizer_l2=0
    ):
        # the book draws 0.01 * np.random.randn(n_inputs, n_neurons); fn sets the weights
        self.weights = np.zeros((n_inputs, n_neurons))
        self.biases = np.zeros((1, n_neurons))
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l2 = bias_regularizer_l2

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        if self.weight_regularizer_l2 > 0:
            self.dweights += 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l2 > 0:
            self.dbiases += 2 * self.bias_regularizer_l2 * self.biases
        self.dinputs = np.dot(dvalues, self.weights.T)


class Layer_Dense_dweights_transposed(Layer_Dense):
    def backward(self, dvalues):
        super().backward(dvalues)
        self.dweights = np.dot(dvalues.T, self.inputs)


class Activation_ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class Activation_Sigmoid:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = 1 / (1 + np.exp(-inputs))

    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.output) * self.output


class Activation_Sigmoid_from_inputs(Activation_Sigmoid):
    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.inputs) * self.inputs


class Activation_Linear:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()


class Activation_Softmax:
    def forward(self, inputs):
        self.inputs = inputs
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        probabilities = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        self.output = probabilities

    def backward(self, dvalues):
        self.dinputs = np.empty_like(dvalues)
        for index, (single_output, single_dvalues) in enumerate(
            zip(self.output, dvalues)
        ):
            single_output = single_output.reshape(-1, 1)
            jacobian_matrix = np.diagflat(single_output) - np.dot(
                single_output, single_output.T
            )
            self.dinputs[index] = np.dot(jacobian_matrix, single_dvalues)


class Loss:
    def regularization_loss(self, layer):
        regularization_loss = 0
        if layer.weight_regularizer_l2 > 0:
            regularization_loss += layer.weight_regularizer_l2 * np.sum(
                layer.weights * layer.weights
            )
        if layer.bias_regularizer_l2 > 0:
            regularization_loss += layer.bias_regularizer_l2 * np.sum(
                layer.biases * layer.biases
            )
        return regularization_loss

    def calculate(self, output, y):
        sample_losses = self.forward(output, y)
        data_loss = np.mean(sample_losses)
        return data_loss


class Loss_CategoricalCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        samples = len(y_pred)
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        if len(y_true.shape) == 1:
            correct_confidences = y_pred_clipped[range(samples), y_true]
        elif len(y_true.shape) == 2:
            correct_confidences = np.sum(y_pred_clipped * y_true, axis=1)
        negative_log_likelihoods = -np.log(correct_confidences)
        return negative_log_likelihoods

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        labels = len(dvalues[0])
        if len(y_true.shape) == 1:
            y_true = np.eye(labels)[y_true]
        self.dinputs = -y_true / dvalues
        self.dinputs = self.dinputs / samples


class Loss_MeanSquaredError(Loss):
    def forward(self, y_pred, y_true):
        sample_losses = np.mean((y_true - y_pred) ** 2, axis=-1)
        return sample_losses

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        outputs = len(dvalues[0])
        self.dinputs = -2 * (y_true - dvalues) / outputs
        self.dinputs = self.dinputs / samples


class Activation_Softmax_Loss_CategoricalCrossentropy:
    def __init__(self, normalize=True):
        self.activation = Activation_Softmax()
        self.loss = Loss_CategoricalCrossentropy()
        self.normalize = normalize  # False: the bug, dinputs /= samples forgotten

    def forward(self, inputs, y_true):
        self.activation.forward(inputs)
        self.output = self.activation.output
        return self.loss.calculate(self.output, y_true)

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        if len(y_true.shape) == 2:
            y_true = np.argmax(y_true, axis=1)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        if self.normalize:
            self.dinputs = self.dinputs / samples


def _dense(weights, biases, l2=0.0, cls=Layer_Dense):
    layer = cls(*weights.shape, weight_regularizer_l2=l2)
    layer.weights, layer.biases = weights, biases
    return layer


def nnfs_spiral(weights, X, y, l2=0.0, activation=Activation_ReLU, **kw):
    """Chapter 10's training step: dense1, activation1, dense2, loss_activation;
    forward, loss, backward; the loss with dense1/dense2's regularization_loss."""
    dense1 = _dense(weights[0], weights[1], l2, kw.get("dense", Layer_Dense))
    activation1 = activation()
    dense2 = _dense(weights[2], weights[3], l2, kw.get("dense", Layer_Dense))
    loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy(
        kw.get("normalize", True)
    )
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    data_loss = loss_activation.forward(dense2.output, y)
    regularization_loss = loss_activation.loss.regularization_loss(
        dense1
    ) + loss_activation.loss.regularization_loss(dense2)
    loss = data_loss + (0 if kw.get("forget_reg_loss") else regularization_loss)
    loss_activation.backward(loss_activation.output, y)
    dense2.backward(loss_activation.dinputs)
    activation1.backward(dense2.dinputs)
    dense1.backward(activation1.dinputs)
    return {
        "loss": loss,
        "output": loss_activation.output,
        "grads": [dense1.dweights, dense1.dbiases, dense2.dweights, dense2.dbiases],
    }


def nnfs_spiral_l2(weights, X, y):
    """Chapter 14: Layer_Dense(2, 64, weight_regularizer_l2=5e-4); the book also sets
    bias_regularizer_l2=5e-4, which crosscheck has no axis for (it leaves b alone)."""
    return nnfs_spiral(weights, X, y, l2=5e-4)


def nnfs_sigmoid_hidden(weights, X, y):
    """Activation_Sigmoid (chapter 16) as the hidden activation."""
    return nnfs_spiral(weights, X, y, activation=Activation_Sigmoid)


def nnfs_separate_softmax(weights, X, y):
    """Chapter 9's first backward: Activation_Softmax's Jacobian per sample, then
    Loss_CategoricalCrossentropy.backward's -y_true / dvalues / samples."""
    dense1 = _dense(weights[0], weights[1])
    activation1 = Activation_ReLU()
    dense2 = _dense(weights[2], weights[3])
    activation2 = Activation_Softmax()
    loss_function = Loss_CategoricalCrossentropy()
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    activation2.forward(dense2.output)
    loss = loss_function.calculate(activation2.output, y)
    loss_function.backward(activation2.output, y)
    activation2.backward(loss_function.dinputs)
    dense2.backward(activation2.dinputs)
    activation1.backward(dense2.dinputs)
    dense1.backward(activation1.dinputs)
    return {
        "loss": loss,
        "grads": [dense1.dweights, dense1.dbiases, dense2.dweights, dense2.dbiases],
    }


def nnfs_regression(weights, X, y):
    """Chapter 17's regression: two relu hidden layers, Activation_Linear, MSE (mean
    over the outputs, then over the samples); y of shape (samples, 1)."""
    layers = [_dense(W, b) for W, b in zip(weights[::2], weights[1::2])]
    activations = [Activation_ReLU(), Activation_ReLU(), Activation_Linear()]
    loss_function = Loss_MeanSquaredError()
    inputs = X
    for dense, activation in zip(layers, activations):
        dense.forward(inputs)
        activation.forward(dense.output)
        inputs = activation.output
    loss = loss_function.calculate(inputs, y)
    loss_function.backward(inputs, y)
    dvalues = loss_function.dinputs
    for dense, activation in zip(reversed(layers), reversed(activations)):
        activation.backward(dvalues)
        dense.backward(activation.dinputs)
        dvalues = dense.dinputs
    return {"loss": loss, "grads": [g for d in layers for g in (d.dweights, d.dbiases)]}


def bug_nnfs_sigmoid_from_inputs(weights, X, y):
    """Activation_Sigmoid.backward with self.inputs where self.output belongs."""
    return nnfs_spiral(weights, X, y, activation=Activation_Sigmoid_from_inputs)


def bug_nnfs_not_divided_by_samples(weights, X, y):
    """The combined backward without self.dinputs = self.dinputs / samples; the loss is
    still the mean (Loss.calculate)."""
    return nnfs_spiral(weights, X, y, normalize=False)


def bug_nnfs_dweights_transposed(weights, X, y):
    """dweights = np.dot(dvalues.T, self.inputs): (n_neurons, n_inputs)."""
    return nnfs_spiral(weights, X, y, dense=Layer_Dense_dweights_transposed)


def bug_nnfs_loss_without_regularization(weights, X, y):
    """Reports data_loss only, though the gradients carry 2 lambda W."""
    return nnfs_spiral(weights, X, y, l2=5e-4, forget_reg_loss=True)


# =================================================================================
# CS231n: rows, self.params (W1, b1, ...), W (n_in, n_out), b (n_out,), y class ids
# (N,), softmax loss averaged over N; loss(X, y) returns (loss, grads)
# =================================================================================


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def cs231n_relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return dx


def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    da = cs231n_relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db


def softmax_loss(x, y):
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


class FullyConnectedNet:
    """Assignment 2's fc_net.py, without dropout or batchnorm: {affine - relu} x (L - 1)
    - affine - softmax; its loss adds 0.5 * self.reg * sum(W * W)."""

    def __init__(self, params, reg=0.0, dtype=np.float64):
        self.params = {k: v.astype(dtype) for k, v in params.items()}
        self.reg = reg
        self.num_layers = len(params) // 2

    def loss(self, X, y):
        L = self.num_layers
        caches = {}
        out = X
        for i in range(1, L):
            out, caches[i] = affine_relu_forward(
                out, self.params[f"W{i}"], self.params[f"b{i}"]
            )
        scores, caches[L] = affine_forward(
            out, self.params[f"W{L}"], self.params[f"b{L}"]
        )
        loss, dscores = softmax_loss(scores, y)
        for i in range(1, L + 1):
            loss += 0.5 * self.reg * np.sum(self.params[f"W{i}"] ** 2)
        grads = {}
        dout, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[L])
        grads[f"W{L}"] += self.reg * self.params[f"W{L}"]
        for i in range(L - 1, 0, -1):
            dout, grads[f"W{i}"], grads[f"b{i}"] = affine_relu_backward(dout, caches[i])
            grads[f"W{i}"] += self.reg * self.params[f"W{i}"]
        return loss, grads


def cs231n_fc_net(params, X, y):
    return FullyConnectedNet(params).loss(X, y)


def cs231n_fc_net_float32(params, X, y):
    """FullyConnectedNet's default dtype=np.float32."""
    return FullyConnectedNet(params, dtype=np.float32).loss(X, y)


def cs231n_fc_net_reg(params, X, y):
    """reg = 0.1 with fc_net.py's 0.5 * reg * sum(W^2): needs l2_form='half_sum'."""
    return FullyConnectedNet(params, reg=0.1).loss(X, y)


class TwoLayerNet:
    """Assignment 1's neural_net.py (2017-2018): self.params, the whole loss inline,
    reg * sum(W * W) and 2 * reg * W."""

    def __init__(self, params):
        self.params = params

    def loss(self, X, y=None, reg=0.0, divide=True, learning_rate=None):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        N, D = X.shape
        hidden_layer = np.maximum(0, X.dot(W1) + b1)
        scores = hidden_layer.dot(W2) + b2
        exp_scores = np.exp(scores - np.max(scores, axis=1, keepdims=True))
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        correct_logprobs = -np.log(probs[range(N), y])
        data_loss = np.sum(correct_logprobs) / N
        reg_loss = reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        loss = data_loss + reg_loss
        grads = {}
        dscores = probs
        dscores[range(N), y] -= 1
        if divide:
            dscores /= N
        grads["W2"] = np.dot(hidden_layer.T, dscores) + 2 * reg * W2
        grads["b2"] = np.sum(dscores, axis=0)
        if learning_rate is not None:  # the bug: the update made before dhidden
            self.params["W2"] -= learning_rate * grads["W2"]
            W2 = self.params["W2"]
        dhidden = np.dot(dscores, W2.T)
        dhidden[hidden_layer <= 0] = 0
        grads["W1"] = np.dot(X.T, dhidden) + 2 * reg * W1
        grads["b1"] = np.sum(dhidden, axis=0)
        return loss, grads


def cs231n_two_layer_net(params, X, y):
    return TwoLayerNet(params).loss(X, y, reg=0.05)


def cs231n_two_layer_layers(params, X, y):
    """The 2019+ assignment 1 TwoLayerNet, from layers.py: affine_relu_forward,
    affine_forward, softmax_loss and their backwards; reg = 0."""
    h, cache_h = affine_relu_forward(X, params["W1"], params["b1"])
    scores, cache_scores = affine_forward(h, params["W2"], params["b2"])
    loss, dscores = softmax_loss(scores, y)
    grads = {}
    dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache_scores)
    _, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache_h)
    return loss, grads


def cs231n_case_study(params, X, y):
    """The notes' "Minimal Neural Network Case Study": b of shape (1, h), keepdims sums,
    reg 1e-3 with 0.5 * reg * sum(W * W); needs bias_shape='row', l2_form='half_sum'."""
    W, b, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    reg = 1e-3
    num_examples = X.shape[0]
    hidden_layer = np.maximum(0, np.dot(X, W) + b)
    scores = np.dot(hidden_layer, W2) + b2
    exp_scores = np.exp(scores)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    correct_logprobs = -np.log(probs[range(num_examples), y])
    data_loss = np.sum(correct_logprobs) / num_examples
    reg_loss = 0.5 * reg * np.sum(W * W) + 0.5 * reg * np.sum(W2 * W2)
    loss = data_loss + reg_loss
    dscores = probs
    dscores[range(num_examples), y] -= 1
    dscores /= num_examples
    dW2 = np.dot(hidden_layer.T, dscores)
    db2 = np.sum(dscores, axis=0, keepdims=True)
    dhidden = np.dot(dscores, W2.T)
    dhidden[hidden_layer <= 0] = 0
    dW = np.dot(X.T, dhidden)
    db = np.sum(dhidden, axis=0, keepdims=True)
    dW2 += reg * W2
    dW += reg * W
    return loss, {"W1": dW, "b1": db, "W2": dW2, "b2": db2}


def bug_cs231n_forgot_divide(params, X, y):
    """The classic: dscores /= N forgotten; the loss is still averaged."""
    return TwoLayerNet(params).loss(X, y, divide=False)


def bug_cs231n_update_inside_loss(params, X, y):
    """W2 updated (SGD, learning_rate 0.5) before dhidden uses it."""
    params = {k: v.copy() for k, v in params.items()}
    return TwoLayerNet(params).loss(X, y, learning_rate=0.5)


def bug_cs231n_db_not_summed(params, X, y):
    """grads['b2'] = dscores: (N, C), not summed over the batch."""
    loss, grads = cs231n_two_layer_layers(params, X, y)
    h = np.maximum(0, X @ params["W1"] + params["b1"])
    _, dscores = softmax_loss(h @ params["W2"] + params["b2"], y)
    grads["b2"] = dscores
    return loss, grads


def bug_cs231n_three_layer_mask(params, X, y):
    """Three layers written inline; the second relu mask is copied from the first:
    dh1[h2 <= 0] = 0 where h1 belongs."""
    W1, b1, W2, b2, W3, b3 = (params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    h1 = np.maximum(0, X.dot(W1) + b1)
    h2 = np.maximum(0, h1.dot(W2) + b2)
    scores = h2.dot(W3) + b3
    loss, dscores = softmax_loss(scores, y)
    grads = {"W3": h2.T.dot(dscores), "b3": np.sum(dscores, axis=0)}
    dh2 = dscores.dot(W3.T)
    dh2[h2 <= 0] = 0
    grads["W2"] = h1.T.dot(dh2)
    grads["b2"] = np.sum(dh2, axis=0)
    dh1 = dh2.dot(W2.T)
    dh1[h2 <= 0] = 0
    grads["W1"] = X.T.dot(dh1)
    grads["b1"] = np.sum(dh1, axis=0)
    return loss, grads


# =================================================================================
# The tables
# =================================================================================

BCE = "binary_cross_entropy"
SCE = "softmax_cross_entropy"
DLAI = {"convention": "deeplearning.ai"}
D2L = {"convention": "d2l", "l2": D2L_LAMBDA}
UDL = {"convention": "udl"}
NNFS = {"convention": "nnfs"}
CS231N = {"convention": "cs231n"}

# (fn, sizes, activations, loss, keyword arguments of check_backprop): each passes with
# its preset and the course's own l2; the few that need another override say why
CORRECT = [
    (dlai_L_layer, [5, 4, 3, 1], ["relu", "relu", "sigmoid"], BCE, DLAI),
    (dlai_L_layer, [12, 20, 7, 5, 1], ["relu"] * 3 + ["sigmoid"], BCE, DLAI),
    (dlai_two_layer_model, [6, 5, 3], ["relu", "sigmoid"], BCE, DLAI),
    (dlai_planar_tanh, [2, 4, 1], ["tanh", "sigmoid"], BCE, DLAI),
    (dlai_gradient_check_fixed, [4, 5, 3, 1], ["relu", "relu", "sigmoid"], BCE, DLAI),
    # (1/m)(lambd/2) sum ||W||^2 is l2 = lambd/m in the half_sum form, for m = batch = 8
    (dlai_l2_regularization, [4, 6, 3, 1], ["relu", "relu", "sigmoid"], BCE, {**DLAI, "l2": LAMBD / 8, "l2_form": "half_sum"}),
    (d2l_matrix_relu, [4, 6, 3], ["relu", "linear"], "mse", D2L),
    (d2l_per_example, [4, 6, 3], ["tanh", "linear"], "mse", D2L),
    (d2l_with_intermediates, [5, 7, 2], ["sigmoid", "linear"], "mse", D2L),
    (d2l_deep_loop, [4, 6, 5, 3], ["relu", "relu", "linear"], "mse", {**D2L, "l2": 0.01}),
    (udl_per_example, [4, 6, 6, 6, 1], ["relu"] * 3 + ["linear"], "mse", UDL),
    (udl_batched, [4, 6, 6, 6, 6, 6, 1], ["relu"] * 5 + ["linear"], "mse", UDL),
    (udl_batched_with_loss, [3, 5, 4, 3], ["relu", "relu", "linear"], "mse", UDL),
    (udl_chapter7_symbols, [4, 6, 5, 2], ["relu", "relu", "linear"], "mse", UDL),
    (nnfs_spiral, [2, 64, 3], ["relu", "softmax"], SCE, NNFS),
    (nnfs_spiral_l2, [2, 64, 3], ["relu", "softmax"], SCE, {**NNFS, "l2": 5e-4}),
    (nnfs_sigmoid_hidden, [4, 8, 3], ["sigmoid", "softmax"], SCE, NNFS),
    (nnfs_separate_softmax, [4, 8, 3], ["relu", "softmax"], "categorical_cross_entropy", NNFS),
    # the same training step fed one-hot rows (the combined backward argmaxes them)
    (nnfs_spiral, [4, 8, 3], ["relu", "softmax"], SCE, {**NNFS, "labels": "onehot"}),
    # regression targets are rows of numbers, not class ids: labels='onehot' reads them
    (nnfs_regression, [1, 16, 16, 1], ["relu", "relu", "linear"], "mse", NNFS),
    (cs231n_two_layer_net, [6, 10, 4], ["relu", "linear"], SCE, {**CS231N, "l2": 0.05}),
    (cs231n_two_layer_layers, [6, 10, 4], ["relu", "linear"], SCE, CS231N),
    (cs231n_fc_net, [6, 8, 7, 4], ["relu", "relu", "linear"], SCE, CS231N),
    (cs231n_fc_net_float32, [6, 8, 7, 4], ["relu", "relu", "linear"], SCE, {**CS231N, "dtype": "float32"}),
    # fc_net.py's 0.5 * reg * sum(W * W)
    (cs231n_fc_net_reg, [6, 8, 7, 4], ["relu", "relu", "linear"], SCE, {**CS231N, "l2": 0.1, "l2_form": "half_sum"}),
    # the notes' case study: b (1, h) from keepdims, 0.5 * reg
    (cs231n_case_study, [2, 100, 3], ["relu", "linear"], SCE, {**CS231N, "bias_shape": "row", "l2": 1e-3, "l2_form": "half_sum"}),
]  # fmt: skip

# (fn, sizes, activations, loss, kwargs, first failing row, fragment of the sentence
# after its "name (label, section): " prefix, xfail reason or None)
BUGGY = [
    (bug_dlai_gradient_check_notebook, [4, 5, 3, 1], ["relu", "relu", "sigmoid"], BCE, DLAI, "dW2", "your dW2 is twice the reference", None),
    (bug_dlai_db1_four_over_m, [4, 5, 3, 1], ["relu", "relu", "sigmoid"], BCE, DLAI, "db1", "your db1 is 4 times the reference", None),
    (bug_dlai_relu_mask_of_layer_2, [4, 5, 5, 1], ["relu", "relu", "sigmoid"], BCE, DLAI, "delta1", "f_1' evaluated at layer 2's z/a instead of layer 1's", None),
    (bug_dlai_planar_tanh_from_Z, [2, 4, 1], ["tanh", "sigmoid"], BCE, DLAI, "dW1", "tanh' is computed as 1 - z^2", None),
    (bug_dlai_sigmoid_backward_from_Z, [5, 4, 3, 1], ["relu", "relu", "sigmoid"], BCE, DLAI, "dW3", "sigmoid' is computed as z (1 - z)", None),
    (bug_d2l_no_decay_in_W1, [4, 6, 3], ["relu", "linear"], "mse", D2L, "dW1", "the L2 term l2 * W is missing from dW", None),
    (bug_d2l_dW2_transposed, [4, 6, 3], ["relu", "linear"], "mse", D2L, "dW2", "your dW2 has shape (6, 3); expected (3, 6) in the d2l convention: the transpose", None),
    (bug_d2l_no_phi_prime, [4, 6, 3], ["tanh", "linear"], "mse", D2L, "dW1", "the f'(z[1]) factor of BP2 is missing", None),
    (bug_d2l_J_without_s, [5, 7, 2], ["sigmoid", "linear"], "mse", D2L, "loss", "your loss leaves out the L2 term", None),
    (bug_udl_no_two, [3, 5, 4, 3], ["relu", "relu", "linear"], "mse", UDL, "delta3", "but your loss matched, in the mse_scale='sum' form: your output delta differentiates the mse_scale='half_sum' form", None),
    (bug_udl_biases_not_summed, [4, 6, 6, 1], ["relu", "relu", "linear"], "mse", UDL, "db3", "not summed over the batch", None),
    (bug_udl_mask_of_next_layer, [4, 6, 6, 6], ["relu", "relu", "linear"], "mse", UDL, "dW2", "f_2' evaluated at layer 3's z/a instead of layer 2's", None),
    (bug_udl_averaged, [4, 6, 6, 1], ["relu", "relu", "linear"], "mse", UDL, "dW3", "your dW3 equals the reference divided by n = 8: your cost averages over the batch", None),
    (bug_nnfs_sigmoid_from_inputs, [4, 8, 3], ["sigmoid", "softmax"], SCE, NNFS, "dW1", "sigmoid' is computed as z (1 - z)", None),
    (bug_nnfs_not_divided_by_samples, [4, 8, 3], ["relu", "softmax"], SCE, NNFS, "dW2", "the 1/n of the mean is missing from the output delta", None),
    (bug_nnfs_dweights_transposed, [4, 8, 3], ["relu", "softmax"], SCE, NNFS, "dW2", "your dW2 has shape (3, 8); expected (8, 3) in the nnfs convention: the transpose", None),
    (bug_nnfs_loss_without_regularization, [4, 8, 3], ["relu", "softmax"], SCE, {**NNFS, "l2": 5e-4}, "loss", "your loss leaves out the L2 term", None),
    (bug_cs231n_forgot_divide, [6, 10, 4], ["relu", "linear"], SCE, CS231N, "dW2", "the 1/n of the mean is missing from the output delta", None),
    (bug_cs231n_update_inside_loss, [6, 10, 4], ["relu", "linear"], SCE, CS231N, "dW1", "uses an updated W2", None),
    (bug_cs231n_db_not_summed, [6, 10, 4], ["relu", "linear"], SCE, CS231N, "db2", "not summed over the batch", None),
    (bug_cs231n_three_layer_mask, [6, 7, 7, 4], ["relu", "relu", "linear"], SCE, CS231N, "dW1", "f_1' evaluated at layer 2's z/a instead of layer 1's", None),
]  # fmt: skip
