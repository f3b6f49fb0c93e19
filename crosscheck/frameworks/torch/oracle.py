"""The PyTorch oracle: ``to_torch(net)`` run module by module under autograd.

    z[l] = linear(a[l-1]) = a[l-1] @ weight.T + bias      weight = W[l].T     (FP1)
    a[l] = activation module (z[l])                                            (FP2)
    a~[l] = m[l] * a[l]       with dropout masks given: what the next Linear reads
    L    = the loss written out in torch with Keras' reductions (below)
    delta[l] = z[l].grad (``retain_grad``),  dW[l] = weight.grad.T,  db[l] = bias.grad
    (db[l] None for nn.Linear(bias=False); to_torch's leading nn.Flatten is left out)

Losses: ``losses.loss_per_row`` (Keras' per-row values), then over the batch:
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
from .losses import loss_per_row, torch_targets

NAME = "torch"
LABEL = "torch"
FRAMEWORK = "PyTorch"
PACKAGE = "torch"

# PyTorch's own quirks (measured in tests/crosscheck/frameworks/test_oracles.py). None of them needs a
# tolerance: crosscheck.to_torch passes the arguments that make torch compute refnet's
# function, so the rtol floor is 0 and the note says what would go wrong without them.
# The optimizers' quirks (RMSprop's and Adam's epsilon placement) are in
# docs/08-training.md.
QUIRKS: dict[str, tuple[float, str]] = {
    "leaky_relu": (
        0.0,
        "nn.LeakyReLU's default negative_slope is 0.01, not 0.2: f(-1) = -0.01 instead "
        "of -0.2; to_torch passes 0.2 (kept as a double: exact in float64)",
    ),
    "gelu_tanh": (
        0.0,
        "nn.GELU() is the exact erf form; the tanh form needs approximate='tanh' (the "
        "two differ by up to 4.7e-4); with it torch matches refnet's gelu_tanh to "
        "4e-16 (f) and 5e-15 (f') relative in float64, 1.6e-7 and 1.3e-6 in float32",
    ),
    "softplus": (
        0.0,
        "nn.Softplus returns z itself where z > threshold (default 20): 1.0e-10 "
        "relative off log(1 + exp(z)) in float64 just above 20, f' off by 2e-9; "
        "to_torch uses threshold 40, beyond which z is exact in float64",
    ),
}


def quirk(activation: str) -> tuple[float, str]:
    """(rtol floor, why) of a float64 network using ``activation`` (none needs a floor)."""
    return QUIRKS.get(activation, (0.0, ""))


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
    flattened, (n, n_0), and Flatten passes that through unchanged; so are its
    nn.Dropout modules (the oracle multiplies by refnet's masks itself)."""
    nn = import_torch().nn
    pairs = []
    for m in module:
        if isinstance(m, nn.Linear):
            pairs.append([m, None])
        elif isinstance(m, nn.Dropout):
            continue
        elif isinstance(m, nn.Flatten):
            if pairs:
                raise RuntimeError(
                    "module: nn.Flatten after a Linear; to_torch puts it first"
                )
        else:
            pairs[-1][1] = m
    return pairs


def backprop(
    built, X, Y, loss: str, reduction="sum_over_batch_size", pins=None, masks=None
):
    """Loss, output, every z, a, delta, dW, db, dX of the module by torch.autograd.

    ``pins`` (per layer None or (mask, values)): z[l] becomes
    ``z + where(mask, values - z, 0).detach()``: refnet's values there in the forward
    pass, torch's own gradients. ``masks`` (per layer None or an (n, n_l) array):
    dropout in training mode with refnet's masks, the next Linear reads m * a[l]
    (BP6, BP7); ``model_output`` then runs the module's own children with each
    nn.Dropout replaced by that multiplication (:func:`masked_call`).
    """
    torch = import_torch()
    module, l2 = built
    pairs = _pairs(module)
    dtype = pairs[0][0].weight.dtype
    np_dtype = np.dtype(str(dtype).removeprefix("torch."))
    k = pairs[-1][0].out_features
    for p in module.parameters():
        p.grad = None
    y_np = torch_targets(loss, Y, k, np_dtype)
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
        if masks is not None and masks[l] is not None:
            a = a * torch.from_numpy(np.asarray(masks[l]))  # a~ = m * a
    rows = loss_per_row(loss, a, y)
    value = rows.sum() if reduction == "sum" else rows.sum() / rows.shape[0]
    if l2:
        value = value + sum(l2 * (linear.weight**2).sum() for linear, _ in pairs)
    value.backward()
    with torch.no_grad():
        if masks is None or all(m is None for m in masks):
            model_output = module(x).numpy()
        else:
            model_output = masked_call(module, x, masks).numpy()

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


def masked_call(module, x, masks):
    """The module's own children called in order on x, each ``nn.Dropout`` replaced by
    the mask of the Linear before it (``x * m``: torch's training-mode dropout with
    refnet's mask instead of a random one)."""
    nn = import_torch().nn
    linear = -1  # how many Linear layers were passed, minus one
    used = set()
    for m in module:
        if isinstance(m, nn.Dropout):
            if linear >= 0 and linear not in used and masks[linear] is not None:
                x = x * import_torch().from_numpy(np.asarray(masks[linear]))
                used.add(linear)
            continue
        x = m(x)
        if isinstance(m, nn.Linear):
            linear += 1
    return x
