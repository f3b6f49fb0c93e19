"""Exact weight transfer between refnet and PyTorch: ``to_torch`` and ``from_torch``.

PyTorch is imported on first use (:func:`import_torch`), so ``import crosscheck`` works
without it. A refnet network becomes a ``torch.nn.Sequential`` of ``nn.Linear`` layers,
each followed by its activation module (none for linear), in the network's dtype.
``nn.Linear`` computes ``x @ weight.T + bias`` with ``weight`` of shape (n_out, n_in), so
``weight = W.T`` (refnet's and Keras' W is (n_in, n_out)).

    refnet        PyTorch
    linear        (no module; nn.Identity is read back as linear)
    sigmoid       nn.Sigmoid
    tanh          nn.Tanh
    relu          nn.ReLU                        (f'(0) = 0)
    leaky_relu    nn.LeakyReLU(0.2)              (torch's default slope is 0.01; a
                                                 refnet leaky_relu(SLOPE) keeps SLOPE)
    elu           nn.ELU(alpha=1.0)
    softplus      nn.Softplus(threshold=40)      (beta 1; torch's default threshold 20
                                                 returns z itself for z > 20, 1e-10 off)
    softsign      nn.Softsign
    silu, swish   nn.SiLU
    gelu          nn.GELU()                      (approximate="none": exact erf form)
    gelu_tanh     nn.GELU(approximate="tanh")
    softmax       nn.Softmax(dim=-1)             (along the last axis)
"""

from __future__ import annotations

import numpy as np

import refnet

LEAKY_RELU_SLOPE = 0.2  # refnet's (and Keras 3's) slope; torch's default is 0.01
# Softplus returns z itself where z > threshold. torch's default 20 is 1.0e-10 relative
# off log(1 + exp(z)) in float64 just above 20; beyond 40, exp(-z) / z < 2e-19 is below
# float64's rounding, so there z itself is exact.
SOFTPLUS_THRESHOLD = 40.0


def import_torch():
    """torch, imported on first use; ImportError saying how to install it otherwise."""
    try:
        import torch
    except ImportError as err:
        raise ImportError(
            f"crosscheck's PyTorch oracle needs torch ({err}); install it with "
            "pip install 'refnet[torch]' (or pip install torch)"
        ) from None
    return torch


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


def _bias(layer):
    return getattr(layer, "b", None)


def to_torch(net: refnet.Network):
    """A torch.nn.Sequential with net's layout, activations, exact weights and dtype.

    Each refnet layer becomes ``nn.Linear(n_in, n_out)`` with ``weight = W.T`` and
    ``bias = b`` (no bias when ``layer.b`` is None), followed by its activation module
    (see the table above). Weights are copied and the transfer is asserted exactly.

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
    modules = []
    for l, layer in enumerate(net.layers, start=1):
        name = layer.activation.name
        slope = getattr(layer.activation, "negative_slope", None)  # leaky_relu(SLOPE)
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
        b = _bias(layer)
        linear = torch.nn.Linear(
            layer.n_in, layer.n_out, bias=b is not None, dtype=dtype
        )
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W.T)))
            if b is not None:
                linear.bias.copy_(torch.from_numpy(np.asarray(b)))
        w = linear.weight.detach().numpy()
        assert w.dtype == net.dtype, f"layer {l}: torch weight dtype {w.dtype}"
        assert np.array_equal(w.T, layer.W), f"layer {l}: weights changed in transfer"
        if b is not None:
            assert np.array_equal(linear.bias.detach().numpy(), b), (
                f"layer {l}: bias changed in transfer"
            )
        modules.append(linear)
        if act is not None:
            modules.append(act)
    return torch.nn.Sequential(*modules)


def _refnet_name(module, i: int) -> str:
    """The refnet activation name of a torch activation module (ValueError otherwise)."""
    nn = import_torch().nn
    simple = {
        nn.Identity: "linear", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh",
        nn.ReLU: "relu", nn.Softsign: "softsign", nn.SiLU: "silu",
    }  # fmt: skip
    kind = type(module)
    if kind in simple:
        return simple[kind]
    where = f"module[{i}]"
    if kind is nn.LeakyReLU:
        slope = float(module.negative_slope)
        named = getattr(refnet.activations, "leaky_relu_name", None)
        if named is not None and slope >= 0:  # refnet's leaky_relu(SLOPE)
            return named(slope)
        if slope != LEAKY_RELU_SLOPE:
            raise ValueError(
                f"{where}: expected LeakyReLU(negative_slope=0.2) (refnet's slope), got "
                f"negative_slope={module.negative_slope} (torch's default is 0.01)"
            )
        return "leaky_relu"
    if kind is nn.ELU:
        if module.alpha != 1.0:
            raise ValueError(
                f"{where}: expected ELU(alpha=1.0), got alpha={module.alpha}"
            )
        return "elu"
    if kind is nn.Softplus:
        if module.beta != 1 or module.threshold < 20:
            raise ValueError(
                f"{where}: expected Softplus(beta=1, threshold >= 20), got "
                f"beta={module.beta}, threshold={module.threshold}"
            )
        return "softplus"
    if kind is nn.GELU:
        return {"none": "gelu", "tanh": "gelu_tanh"}[module.approximate]
    if kind is nn.Softmax:
        if module.dim not in (-1, 1):
            raise ValueError(
                f"{where}: expected Softmax(dim=-1) (along the features), got dim={module.dim}"
            )
        return "softmax"
    raise TypeError(
        f"{where}: expected nn.Linear or one of the activation modules "
        f"{sorted(c.__name__ for c in (*simple, nn.LeakyReLU, nn.ELU, nn.Softplus, nn.GELU, nn.Softmax))}, "
        f"got {kind.__name__}"
    )


def from_torch(module) -> refnet.Network:
    """A refnet.Network with the layout, activations, weights and dtype of ``module``.

    ``module`` must be a ``torch.nn.Sequential`` of ``nn.Linear`` layers with a bias,
    each followed by at most one activation module from the table above (none: linear),
    all float32 or all float64. Weights are copied (W = weight.T).

    Raises
    ------
    TypeError
        Not an nn.Sequential, a module that is neither Linear nor a known activation,
        or a non-float dtype; the message names the module's index.
    ValueError
        An empty Sequential, an activation before the first Linear or two in a row, a
        Linear without bias, or an activation with arguments refnet does not have.
    """
    torch = import_torch()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise TypeError(
            f"module: expected a torch.nn.Sequential, got {type(module).__name__}"
        )
    if len(module) == 0:
        raise ValueError(
            "module: expected at least one nn.Linear, got an empty Sequential"
        )
    specs = []  # [W, b, activation name or None]
    for i, m in enumerate(module):
        if isinstance(m, nn.Linear):
            if m.bias is None:
                raise ValueError(
                    f"module[{i}]: expected nn.Linear with a bias, got bias=False"
                )
            W = m.weight.detach().numpy().T.copy()  # (n_in, n_out)
            if W.dtype not in (np.float32, np.float64):
                raise TypeError(
                    f"module[{i}]: expected dtype float32 or float64, got {W.dtype}"
                )
            b = m.bias.detach().numpy().copy()
            if not (np.isfinite(W).all() and np.isfinite(b).all()):
                raise ValueError(
                    f"module[{i}]: its weight or bias holds NaN or inf; refnet (and any "
                    "comparison) needs finite weights"
                )
            specs.append([W, b, None])
            continue
        name = _refnet_name(m, i)
        if not specs:
            raise ValueError(
                f"module[{i}]: expected nn.Linear first, got {type(m).__name__} before it"
            )
        if specs[-1][2] is not None:
            raise ValueError(
                f"module[{i}]: expected one activation per nn.Linear, got "
                f"{type(m).__name__} after {specs[-1][2]}"
            )
        specs[-1][2] = name
    layers = []
    for W, b, name in specs:
        dense = refnet.Dense(
            W.shape[0], W.shape[1], name or "linear", init="zeros", dtype=W.dtype
        )
        dense.W, dense.b = W, b
        layers.append(dense)
    try:
        return refnet.Network(layers)  # raises on mismatched widths or mixed dtypes
    except (TypeError, ValueError) as err:
        raise type(err)(f"module: {err} (the Linear layers, in order)") from None
