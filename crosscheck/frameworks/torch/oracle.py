"""The PyTorch oracle: ``to_torch(net)`` run module by module under autograd.

    z[l] = linear(a[l-1]) = a[l-1] @ weight.T + bias      weight = W[l].T     (FP1)
    a[l] = activation module (z[l])                                            (FP2)
    L    = the loss written out in torch with Keras' reductions (below)
    delta[l] = z[l].grad (``retain_grad``),  dW[l] = weight.grad.T,  db[l] = bias.grad
    (db[l] None for nn.Linear(bias=False); to_torch's leading nn.Flatten is left out)

Losses, written with the same reductions as refnet and Keras (torch's own loss modules
average over every entry at once, or sum, and have no clipped form):

    mse                        mean over outputs, then over the batch
    softmax_cross_entropy      -sum(y * log_softmax(z)) per row (F.cross_entropy for
                               int class ids), then over the batch
    categorical_cross_entropy  p = a / sum(a) per row, clamped to [1e-7, 1 - 1e-7]
                               (Keras' from_logits=False), -sum(y * log p) per row
    binary_cross_entropy       F.binary_cross_entropy_with_logits, mean over outputs

"over the batch" is the mean (Keras' "sum_over_batch_size") or the sum ("sum", LS5);
L2 weight decay adds l2 * sum(W^2) per layer (LS6). Everything runs in the network's
dtype.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np

import refnet

from .bridge import to_torch
from .imports import import_torch

NAME = "torch"
LABEL = "torch"
FRAMEWORK = "PyTorch"
CLIP = 1e-7  # Keras' epsilon for the cross-entropy from probabilities


def available() -> str | None:
    """None when torch imports, else why not (one line)."""
    try:
        import_torch()
    except ImportError as err:
        return str(err)
    return None


def describe() -> str:
    """The torch found: "PyTorch 2.13.0+cpu (CPU build)", or with CUDA and triton."""
    torch = import_torch()
    if torch.version.cuda is None:
        return f"PyTorch {torch.__version__} (CPU build)"
    try:
        triton = f", triton {importlib.metadata.version('triton')}"
    except importlib.metadata.PackageNotFoundError:
        triton = ""
    return f"PyTorch {torch.__version__} (CUDA {torch.version.cuda} build{triton})"


def build(net: refnet.Network, l2: float = 0.0):
    """(to_torch(net), l2): the nn.Sequential and the L2 factor its loss adds (LS6)."""
    return to_torch(net), float(l2)


def _pairs(module) -> list:
    """[(nn.Linear, activation module or None)] of a to_torch Sequential. Its leading
    nn.Flatten (a net with an input_shape) is left out: X reaches the oracle already
    flattened, (n, n_0), and Flatten passes that through unchanged."""
    nn = import_torch().nn
    pairs = []
    for m in module:
        if isinstance(m, nn.Linear):
            pairs.append([m, None])
        elif isinstance(m, nn.Flatten):
            assert not pairs, "to_torch puts nn.Flatten first only"
        else:
            pairs[-1][1] = m
    return pairs


def _targets(loss: str, Y, k: int, dtype) -> np.ndarray:
    """Targets as the torch loss takes them: int ids, or float rows in net's dtype."""
    Y = np.asarray(Y)
    if loss in ("mse", "binary_cross_entropy"):
        return Y.reshape(-1, 1).astype(dtype) if Y.ndim == 1 else Y.astype(dtype)
    if Y.ndim == 1:
        ids = Y.astype(np.int64)
        return ids if loss == "softmax_cross_entropy" else np.eye(k, dtype=dtype)[ids]
    return Y.astype(dtype)


def loss_per_row(loss: str, a, y):
    """Each row's loss (n,) in torch, as Keras computes it before the batch reduction."""
    torch = import_torch()
    F = torch.nn.functional
    if loss == "mse":
        return ((a - y) ** 2).mean(dim=-1)
    if loss == "softmax_cross_entropy":
        if y.dtype == torch.int64:
            return F.cross_entropy(a, y, reduction="none")
        return -(y * F.log_softmax(a, dim=-1)).sum(dim=-1)
    if loss == "categorical_cross_entropy":
        p = a / a.sum(dim=-1, keepdim=True)
        p = torch.clamp(p, CLIP, 1 - CLIP)
        return -(y * torch.log(p)).sum(dim=-1)
    if loss == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(a, y, reduction="none").mean(dim=-1)
    raise ValueError(
        f"loss: no PyTorch counterpart for {loss!r}; expected one of "
        f"{refnet.losses.names()}"
    )


def backprop(built, X, Y, loss: str, reduction="sum_over_batch_size", pins=None):
    """Loss, output, every z, a, delta, dW, db, dX of the module by torch.autograd.

    ``pins`` (per layer None or (mask, values)): z[l] becomes
    ``z + where(mask, values - z, 0).detach()``: refnet's values there in the forward
    pass, torch's own gradients.
    """
    torch = import_torch()
    module, l2 = built
    pairs = _pairs(module)
    dtype = pairs[0][0].weight.dtype
    np_dtype = np.dtype(str(dtype).removeprefix("torch."))
    k = pairs[-1][0].out_features
    for p in module.parameters():
        p.grad = None
    y_np = _targets(loss, Y, k, np_dtype)
    y = torch.from_numpy(y_np)
    x = torch.from_numpy(np.array(X, dtype=np_dtype)).requires_grad_()
    zs, acts = [], []
    a = x
    for l, (linear, act) in enumerate(pairs):
        z = linear(a)  # (n, n_l)                                        FP1
        if pins is not None and pins[l] is not None:
            mask, values = (torch.from_numpy(np.asarray(v)) for v in pins[l])
            z = z + torch.where(mask, values - z, torch.zeros_like(z)).detach()
        z.retain_grad()
        a = z if act is None else act(z)  # (n, n_l)                     FP2
        zs.append(z)
        acts.append(a)
    rows = loss_per_row(loss, a, y)
    value = rows.sum() if reduction == "sum" else rows.sum() / rows.shape[0]
    if l2:
        value = value + sum(l2 * (linear.weight**2).sum() for linear, _ in pairs)
    value.backward()
    with torch.no_grad():
        model_output = module(x).numpy()

    def arr(t):
        return t.detach().numpy().copy()

    return {
        "loss": float(value.item()),
        "output": arr(a),
        "model_output": model_output,
        "z": [arr(z) for z in zs],
        "a": [arr(t) for t in acts],
        "y": np.eye(k)[y_np] if y_np.ndim == 1 else y_np,
        "delta": [
            np.zeros(z.shape, np_dtype) if z.grad is None else arr(z.grad) for z in zs
        ],
        "dW": [arr(linear.weight.grad.T) for linear, _ in pairs],
        "db": [None if lin.bias is None else arr(lin.bias.grad) for lin, _ in pairs],
        "dX": arr(x.grad),
    }
