"""Exact weight transfer from refnet to PyTorch: ``to_torch`` (``from_torch`` reads a module
back, in models.py).

PyTorch is imported on first use (:func:`import_torch`), so ``import crosscheck`` works
without it. A refnet network becomes a ``torch.nn.Sequential`` of ``nn.Linear`` layers,
each followed by its activation module (none for linear), in the network's dtype.
``nn.Linear`` computes ``x @ weight.T + bias`` with ``weight`` of shape (n_out, n_in), so
``weight = W.T`` (refnet's and Keras' W is (n_in, n_out)).

    refnet                 PyTorch
    input_shape (28, 28)   nn.Flatten() first      (dims 1..-1, row-major, as refnet's
                                                   FL1 and Keras' Flatten; from_torch
                                                   reads it back with its input_shape=)
    Dense(use_bias=False)  nn.Linear(bias=False)
    linear                 (no module; nn.Identity is read back as linear)
    sigmoid                nn.Sigmoid
    tanh                   nn.Tanh
    relu                   nn.ReLU                 (f'(0) = 0)
    leaky_relu             nn.LeakyReLU(0.2)       (torch's default slope is 0.01)
    leaky_relu(SLOPE)      nn.LeakyReLU(SLOPE)     (any finite SLOPE >= 0, both ways)
    elu                    nn.ELU(alpha=1.0)
    softplus               nn.Softplus(threshold=40)  (beta 1; torch's default threshold
                                                   20 returns z itself for z > 20, 1e-10
                                                   off)
    softsign               nn.Softsign
    silu, swish            nn.SiLU
    gelu                   nn.GELU()               (approximate="none": exact erf form)
    gelu_tanh              nn.GELU(approximate="tanh")
    softmax                nn.Softmax(dim=-1)      (along the last axis)
    Dense(dropout=RATE)    nn.Dropout(p=RATE)      (after the layer's activation module;
                                                   eval(): the identity; train(): refnet's
                                                   inverted dropout; from_torch reads one
                                                   after a hidden Linear back onto it)
"""

from __future__ import annotations

import numpy as np

import refnet
from refnet.activations import LEAKY_RELU_SLOPE  # 0.2, as Keras 3; torch's default 0.01

from .. import check_transfer
from .imports import import_torch

# Softplus returns z itself where z > threshold. torch's default 20 is 1.0e-10 relative
# off log(1 + exp(z)) in float64 just above 20; beyond 40, exp(-z) / z < 2e-19 is below
# float64's rounding, so there z itself is exact.
SOFTPLUS_THRESHOLD = 40.0


def torch_activation(name: str):
    """A fresh torch module for a refnet activation name, or None for linear."""
    nn = import_torch().nn
    modules = {
        "linear": lambda: None,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE),
        "elu": lambda: nn.ELU(alpha=1.0),
        "softplus": lambda: nn.Softplus(beta=1.0, threshold=SOFTPLUS_THRESHOLD),
        "softsign": nn.Softsign,
        "silu": nn.SiLU,
        "swish": nn.SiLU,
        "gelu": lambda: nn.GELU(approximate="none"),
        "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
        "softmax": lambda: nn.Softmax(dim=-1),
    }
    if name not in modules:
        raise ValueError(f"activation: expected one of {list(modules)}, got {name!r}")
    return modules[name]()


def to_torch(net: refnet.Network):
    """A torch.nn.Sequential with net's layout, activations, exact weights and dtype.

    A net with an ``input_shape`` such as (28, 28) starts with ``nn.Flatten()``, so the
    module takes X of shape (n, 28, 28) as the net does (dims 1..-1 flattened row-major,
    FL1); X already of shape (n, 784) passes through it unchanged. Each refnet layer
    becomes ``nn.Linear(n_in, n_out)`` with ``weight = W.T`` and ``bias = b`` (no bias
    when ``layer.use_bias`` is False), followed by its activation module (see the table
    above) and, for a layer with dropout, ``nn.Dropout(p=layer.dropout)``. Weights are copied and the transfer is checked exactly (check_transfer).

    Raises
    ------
    TypeError
        If ``net`` is not a refnet.Network.
    ValueError
        If an activation has no PyTorch counterpart (a user-registered one).
    """
    if not isinstance(net, refnet.Network):
        raise TypeError(f"net: expected refnet.Network, got {type(net).__name__}")
    torch = import_torch()
    dtype = getattr(torch, net.dtype.name)
    modules = [] if net.input_shape is None else [torch.nn.Flatten()]
    for l, layer in enumerate(net.layers, start=1):
        name = layer.activation.name
        slope = layer.activation.negative_slope  # leaky_relu(SLOPE); None otherwise
        try:
            if slope is not None:
                act = torch.nn.LeakyReLU(negative_slope=float(slope))
            else:
                act = torch_activation(name)
        except ValueError as err:
            raise ValueError(
                f"net.layers[{l - 1}]: activation {name!r} has no PyTorch counterpart; "
                f"{err}"
            ) from None
        linear = torch.nn.Linear(
            layer.n_in, layer.n_out, bias=layer.use_bias, dtype=dtype
        )
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W.T)))
            if layer.use_bias:
                linear.bias.copy_(torch.from_numpy(np.asarray(layer.b)))
        check_transfer(linear.weight.detach().numpy().T, layer.W, f"layer {l}: W")
        if layer.use_bias:
            check_transfer(linear.bias.detach().numpy(), layer.b, f"layer {l}: b")
        modules.append(linear)
        if act is not None:
            modules.append(act)
        if layer.dropout:  # after the activation, as refnet applies it (BP7)
            modules.append(torch.nn.Dropout(p=layer.dropout))
    return torch.nn.Sequential(*modules)
