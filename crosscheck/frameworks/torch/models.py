"""A user's PyTorch module as a refnet network: :func:`from_torch` (the layer table is in
bridge.py's docstring)."""

from __future__ import annotations

import warnings

import numpy as np

import refnet

from ...tolerance import check_probe
from .imports import import_torch


def _refnet_name(module, i: int) -> str:
    """The refnet activation name of a torch activation module (ValueError otherwise)."""
    nn = import_torch().nn
    simple = {
        nn.Identity: "linear",
        nn.Sigmoid: "sigmoid",
        nn.Tanh: "tanh",
        nn.ReLU: "relu",
        nn.Softsign: "softsign",
        nn.SiLU: "silu",
    }
    with_arguments = {
        nn.LeakyReLU: _leaky_relu,
        nn.ELU: _elu,
        nn.Softplus: _softplus,
        nn.GELU: _gelu,
        nn.Softmax: _softmax,
    }
    kind = type(module)
    if kind in simple:
        return simple[kind]
    if kind in with_arguments:
        return with_arguments[kind](module, f"module[{i}]")
    known = (*simple, *with_arguments)
    raise TypeError(
        f"module[{i}]: expected nn.Linear, a leading nn.Flatten, nn.Dropout or one of the "
        f"activation modules {sorted(c.__name__ for c in known)}, got {kind.__name__}"
    )


# The activation modules whose arguments decide refnet's name, or a refusal naming them.
def _leaky_relu(module, where: str) -> str:
    slope = float(module.negative_slope)
    if not (np.isfinite(slope) and slope >= 0):
        raise ValueError(
            f"{where}: expected LeakyReLU with a finite negative_slope >= 0 (refnet's "
            f"leaky_relu(SLOPE)), got negative_slope={module.negative_slope}"
        )
    return refnet.activations.leaky_relu_name(slope)


def _elu(module, where: str) -> str:
    if module.alpha != 1.0:
        raise ValueError(f"{where}: expected ELU(alpha=1.0), got alpha={module.alpha}")
    return "elu"


def _softplus(module, where: str) -> str:
    if module.beta != 1 or module.threshold < 20:
        raise ValueError(
            f"{where}: expected Softplus(beta=1, threshold >= 20), got "
            f"beta={module.beta}, threshold={module.threshold}"
        )
    return "softplus"


def _gelu(module, where: str) -> str:
    return {"none": "gelu", "tanh": "gelu_tanh"}[module.approximate]


def _softmax(module, where: str) -> str:
    if module.dim not in (-1, 1):
        raise ValueError(
            f"{where}: expected Softmax(dim=-1) (along the features), got dim={module.dim}"
        )
    return "softmax"


def _linear_weights(m, i: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(W, b) of module[i], an nn.Linear, as numpy copies: W = weight.T (n_in, n_out), b
    None without bias; TypeError for a non-float dtype, ValueError for NaN/inf, weights
    without values (meta device, an uninitialised LazyLinear) or an empty layer."""
    torch = import_torch()
    weight = m.weight
    if isinstance(weight, torch.nn.parameter.UninitializedParameter):
        raise ValueError(
            f"module[{i}]: {type(m).__name__} is not initialised yet (a lazy module "
            "learns its shape from its first call); run one batch through the module "
            "first"
        )
    if weight.is_meta:
        raise ValueError(
            f"module[{i}]: its weight lives on the meta device (a shape without "
            "values); load or initialise the weights first (module.to_empty(device="
            "'cpu') and then load_state_dict)"
        )
    if weight.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"module[{i}]: expected dtype float32 or float64, got "
            f"{str(weight.dtype).removeprefix('torch.')}; convert with module.float() "
            "or module.double()"
        )
    if 0 in weight.shape:
        raise ValueError(
            f"module[{i}]: {type(m).__name__}({m.in_features}, {m.out_features}) has "
            "no weights; every layer needs at least one input and one output"
        )
    # (n_in, n_out)
    W = weight.detach().cpu().numpy().T.copy()
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
    - ``nn.Dropout(p)`` after a hidden Linear (and its activation): that layer's
      ``dropout=p`` (refnet applies it after the activation, as this order does).
      Elsewhere (before the first Linear, after the last, between a Linear and its
      activation, a second one on a Linear) refnet cannot represent it; it is the
      identity at inference, which is what the returned net computes there, so it is
      skipped.

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
    specs, flatten, dropped = _read_modules(module)
    if not specs:
        raise ValueError(
            f"module: expected at least one nn.Linear, got "
            f"{'an empty Sequential' if len(module) == 0 else 'none'}"
        )
    if specs[-1][3]:  # after the output layer: no output dropout in refnet
        dropped.append(specs[-1][4])
    if dropped:  # the net is right at inference, but would train without them
        warnings.warn(
            f"module: not carried over to the refnet network: the nn.Dropout at "
            f"{', '.join(f'module[{i}]' for i in sorted(dropped))} (refnet's dropout "
            "follows a hidden layer's activation); the net computes each as the "
            "identity, as at inference",
            UserWarning,
            stacklevel=2,
        )
    specs[-1][3] = 0.0  # after the output layer: the identity (no output dropout)
    layers = [
        refnet.Dense(
            W.shape[0],
            W.shape[1],
            name or "linear",
            init="zeros",
            dtype=W.dtype,
            use_bias=b is not None,
            dropout=p,
        )
        for W, b, name, p, _ in specs
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
    net.set_weights([w for W, b, *_ in specs for w in (W, b) if w is not None])
    check_probe(lambda X: _run_eval(module, X), net, "module", PROBE_HINT)
    return net


def _read_modules(module) -> tuple[list, int | None, list]:
    """from_torch's walk over the children: ``specs`` ([W, b or None, activation name or
    None, dropout rate, that nn.Dropout's index] per nn.Linear), the index of the
    leading nn.Flatten (None) and the indices of the nn.Dropout refnet cannot carry."""
    nn = import_torch().nn
    specs = []  # [W, b or None, activation name or None, dropout, its index]
    flatten = None  # the index of the leading nn.Flatten
    dropped = []  # nn.Dropout indices that stay the identity
    for i, m in enumerate(module):
        if isinstance(m, nn.Linear):
            specs.append([*_linear_weights(m, i), None, 0.0, None])
            continue
        if type(m) is nn.Dropout:  # a hidden layer's dropout, or the identity
            rate = refnet.dropout.check_rate(float(m.p), f"module[{i}].p")
            if specs and not specs[-1][3] and rate:
                specs[-1][3], specs[-1][4] = rate, i
            elif rate:
                dropped.append(i)
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
        if specs[-1][3]:  # dropped before the activation: not refnet's m * f(z)
            dropped.append(specs[-1][4])  # the identity at inference, as before
            specs[-1][3], specs[-1][4] = 0.0, None
        if specs[-1][2] is not None:
            raise ValueError(
                f"module[{i}]: expected one activation per nn.Linear, got "
                f"{type(m).__name__} after {specs[-1][2]}"
            )
        specs[-1][2] = name
    return specs, flatten, dropped


PROBE_HINT = (
    "a Linear subclass overriding forward, a forward hook or a custom module computes "
    "something its layers do not say"
)


def _run_eval(module, X: np.ndarray) -> np.ndarray:
    """module(X) in eval mode without gradients; its training flag restored."""
    torch = import_torch()
    training = module.training
    try:
        module.eval()
        with torch.no_grad():
            return module(torch.from_numpy(X)).detach().cpu().numpy()
    finally:
        module.train(training)
