"""Exact weight transfer between refnet and PyTorch: ``to_torch`` and ``from_torch``.

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
    (nothing)              nn.Dropout              (from_torch only: the identity at
                                                   inference, skipped)
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np

import refnet
from refnet.activations import LEAKY_RELU_SLOPE  # 0.2, as Keras 3; torch's default 0.01

# Softplus returns z itself where z > threshold. torch's default 20 is 1.0e-10 relative
# off log(1 + exp(z)) in float64 just above 20; beyond 40, exp(-z) / z < 2e-19 is below
# float64's rounding, so there z itself is exact.
SOFTPLUS_THRESHOLD = 40.0


def import_torch():
    """torch, imported on first use; ImportError saying how to install it otherwise.

    Where torch ships triton (PyPI's CUDA build on Linux), ``torch.optim`` imports it, and
    triton's library crashes a process that has TensorFlow loaded (a segfault; see
    ``crosscheck.oracles.CONFLICTS``). Imported before TensorFlow, torch's compiler stack
    (``torch._dynamo``, which loads triton) is imported here at once, so TensorFlow can
    follow safely. crosscheck's own calls run each framework in its own process anyway
    (crosscheck/oracles/workers.py); this guards the caller's process.
    """
    try:
        import torch
    except ImportError as err:
        raise ImportError(
            f"crosscheck's PyTorch oracle needs torch ({err}); install it with "
            "pip install 'refnet[torch]' (or pip install torch)"
        ) from None
    if "tensorflow" not in sys.modules and _has_triton():
        import torch._dynamo  # noqa: F401 (loads triton before TensorFlow can be)
    return torch


def _has_triton() -> bool:
    return importlib.util.find_spec("triton") is not None


def check_optim_safe() -> None:
    """RuntimeError where ``torch.optim`` would crash this process: triton is installed,
    TensorFlow is loaded and torch's compiler stack was not imported before it."""
    if (
        "tensorflow" in sys.modules
        and "torch._dynamo" not in sys.modules
        and _has_triton()
    ):
        raise RuntimeError(
            "torch.optim would import triton, which crashes a process where TensorFlow "
            "is loaded (PyPI's CUDA build of torch); import torch before tensorflow, or "
            "leave CROSSCHECK_ISOLATION unset so each framework runs in its own process"
        )


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
    above). Weights are copied and the transfer is asserted exactly.

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
        w = linear.weight.detach().numpy()
        assert w.dtype == net.dtype, f"layer {l}: torch weight dtype {w.dtype}"
        assert np.array_equal(w.T, layer.W), f"layer {l}: weights changed in transfer"
        if layer.use_bias:
            assert np.array_equal(linear.bias.detach().numpy(), layer.b), (
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
        if not (np.isfinite(slope) and slope >= 0):
            raise ValueError(
                f"{where}: expected LeakyReLU with a finite negative_slope >= 0 (refnet's "
                f"leaky_relu(SLOPE)), got negative_slope={module.negative_slope}"
            )
        return refnet.activations.leaky_relu_name(slope)
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
    known = (*simple, nn.LeakyReLU, nn.ELU, nn.Softplus, nn.GELU, nn.Softmax)
    raise TypeError(
        f"{where}: expected nn.Linear, a leading nn.Flatten, nn.Dropout or one of the "
        f"activation modules {sorted(c.__name__ for c in known)}, got {kind.__name__}"
    )


def _linear_weights(m, i: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(W, b) of module[i], an nn.Linear, as numpy copies: W = weight.T (n_in, n_out), b
    None without bias; TypeError for a non-float dtype, ValueError for NaN/inf."""
    W = m.weight.detach().cpu().numpy().T.copy()  # (n_in, n_out)
    if W.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"module[{i}]: expected dtype float32 or float64, got {W.dtype}"
        )
    b = None if m.bias is None else m.bias.detach().cpu().numpy().copy()  # (n_out,)
    if b is not None and b.dtype != W.dtype:
        raise TypeError(
            f"module[{i}]: expected the bias in the weight's dtype {W.dtype}, got {b.dtype}"
        )
    for what, w in (("weight", W), ("bias", b)):
        if w is not None and not np.isfinite(w).all():
            raise ValueError(
                f"module[{i}]: its {what} holds NaN or inf; refnet (and any comparison) "
                "needs finite weights"
            )
    return W, b


def from_torch(module, input_shape=None) -> refnet.Network:
    """A refnet.Network with the layout, activations, weights and dtype of ``module``.

    ``module`` is a ``torch.nn.Sequential``, as the PyTorch tutorials write it, of:

    - ``nn.Linear`` layers, with or without bias (``bias=False``: refnet's b is None),
      all float32 or all float64; weights are copied (W = weight.T) and must be finite;
    - after each Linear at most one activation module from the table above (none:
      linear), e.g. ``nn.LeakyReLU(0.3)`` -> ``leaky_relu(0.3)``;
    - optionally ``nn.Flatten()`` (start_dim=1, end_dim=-1 only) before the first Linear;
    - ``nn.Dropout`` anywhere: the identity at inference, which is what the returned
      net computes, so it is skipped (the net has no dropout and no note of it).

    A torch module does not record its input shape, so the net's ``input_shape`` is the
    argument ``input_shape`` (e.g. (28, 28); its product must be the first Linear's
    in_features, and a shape of more than one axis needs the leading nn.Flatten). Without
    it the net takes X already flattened, (n, in_features).

    Raises
    ------
    TypeError
        Not an nn.Sequential, a module that is neither Linear, Flatten, Dropout nor a
        known activation, a non-float dtype, or an input_shape that is not a tuple of
        ints; the message names the module's index.
    ValueError
        An empty Sequential, an activation before the first Linear or two in a row, a
        Flatten other than Flatten() or after a Linear, NaN/inf weights, an activation
        with arguments refnet does not have, or an input_shape that does not fit.
    """
    torch = import_torch()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise TypeError(
            f"module: expected a torch.nn.Sequential, got {type(module).__name__}"
        )
    specs = []  # [W, b or None, activation name or None]
    flatten = None  # the index of the leading nn.Flatten
    for i, m in enumerate(module):
        if isinstance(m, nn.Linear):
            specs.append([*_linear_weights(m, i), None])
            continue
        if type(m) is nn.Dropout:  # the identity at inference
            continue
        if type(m) is nn.Flatten:
            if specs:
                raise ValueError(
                    f"module[{i}]: expected nn.Flatten only before the first nn.Linear, "
                    f"got it after module[{i - 1}]"
                )
            if (m.start_dim, m.end_dim) != (1, -1):
                raise ValueError(
                    f"module[{i}]: expected nn.Flatten() (start_dim=1, end_dim=-1: each "
                    f"example flattened row-major), got start_dim={m.start_dim}, "
                    f"end_dim={m.end_dim}"
                )
            flatten = i
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
    if not specs:
        raise ValueError(
            f"module: expected at least one nn.Linear, got "
            f"{'an empty Sequential' if len(module) == 0 else 'none'}"
        )
    layers = [
        refnet.Dense(W.shape[0], W.shape[1], name or "linear", init="zeros",
                     dtype=W.dtype, use_bias=b is not None)  # fmt: skip
        for W, b, name in specs
    ]
    try:
        net = refnet.Network(layers)  # raises on mismatched widths or mixed dtypes
    except (TypeError, ValueError) as err:
        raise type(err)(f"module: {err} (the Linear layers, in order)") from None
    if input_shape is not None:
        try:
            net = refnet.Network(layers, input_shape=input_shape)
        except (TypeError, ValueError) as err:
            raise type(err)(
                f"{err} (the module's first nn.Linear has in_features={layers[0].n_in})"
            ) from None
        if net.input_shape is not None and flatten is None:
            raise ValueError(
                f"input_shape: {net.input_shape} has {len(net.input_shape)} axes, but "
                "the module has no nn.Flatten() before its first nn.Linear, which would "
                "act on the last axis only; give the module a leading nn.Flatten()"
            )
    net.set_weights([w for W, b, _ in specs for w in (W, b) if w is not None])
    return net
