"""The JAX oracle: ``to_jax(net)``'s pytree run by ``bridge.layer_by_layer`` under
``jax.value_and_grad``.

    z[l] = a[l-1] @ W[l] + b[l] + e[l]      e[l] = 0, an input of the differentiation (FP1)
    a[l] = f(z[l])                          the activation table of bridge.py        (FP2)
    a~[l] = m[l] * a[l]                     with dropout masks given
    L    = the loss written out in jax.numpy with Keras' reductions (below)
    delta[l] = dL/de[l] = dL/dz[l],  dW[l] = dL/dW[l],  db[l] = dL/db[l],  dX = dL/dX

JAX differentiates functions, not tensors: there is no ``z.grad``. Adding a zero e[l] to
each z[l] and differentiating with respect to e (``jax.value_and_grad`` over (params, X,
e) at once) gives every delta of one backward pass.

Losses: ``losses.loss_per_row`` (Keras' per-row values), then over the batch: the mean
(Keras' "sum_over_batch_size") or the sum ("sum", LS5); L2 weight decay adds
l2 * sum(W^2) per layer (LS6). Everything runs in the network's dtype: a float64
network inside ``with x64():`` (imports.py), JAX's 64-bit mode for this call only.

Speed: one ``jax.jit`` of the whole backprop per case, compiled with COMPILER_OPTIONS
and kept (CACHE_SIZE) for a repeat. Op by op, JAX compiles every primitive for every
new shape (~80 small XLA programs for a 3-layer case: seconds); one program per case is
~0.1 s, a repeat ~1 ms (measured in tests/crosscheck/frameworks/test_jax_oracle.py).
Inputs go in by ``jax.device_put``, which copies; ``jnp.asarray`` would compile a
program per shape too.
"""

from __future__ import annotations

import numpy as np

import refnet

from .bridge import activations_of, layer_by_layer, to_jax
from .imports import import_jax, x64_for
from .losses import jax_targets, loss_per_row, reduce

NAME = "jax"
LABEL = "JAX"
FRAMEWORK = "JAX"

# JAX's own quirks (measured in tests/crosscheck/frameworks/test_jax_oracle.py). None
# needs a tolerance: bridge.jax_activation passes the arguments that make JAX compute
# refnet's function, so the rtol floor is 0 and the note says what would go wrong
# without them. float64 (off by default in JAX) is in X64 below; optax's Adam and
# RMSprop epsilon placement is in docs/08-training.md.
QUIRKS: dict[str, tuple[float, str]] = {
    "gelu": (
        0.0,
        "jax.nn.gelu's default is approximate=True, the tanh form (refnet's gelu_tanh), "
        "up to 4.7e-4 off the exact erf form; to_jax's table passes approximate=False",
    ),
    "leaky_relu": (
        0.0,
        "jax.nn.leaky_relu's default negative_slope is 0.01, not 0.2 (f(-1) = -0.01 "
        "instead of -0.2), and its z >= 0 test gives f'(0) = 1 where refnet and "
        "TensorFlow give the slope; the table writes where(z > 0, z, 0.2 z)",
    ),
}
X64 = (
    "JAX computes in float32 unless jax_enable_x64 is set: a float64 array becomes "
    "float32 (each weight rounded, up to 2^-24 = 6e-8 relative; JAX may warn or not), "
    "and the whole computation is float32; the oracle enables 64-bit mode "
    "for its own call only (with x64():), never for the process"
)


def quirk(activation: str) -> tuple[float, str]:
    """(rtol floor, why) of a float64 network using ``activation`` (none needs a floor)."""
    return QUIRKS.get(activation, (0.0, ""))


# XLA's CPU compiler set for compiling fast, not for fast code: every case of the matrix
# is a new program (new shapes, activations, loss), run once on a few KB, so compiling
# dominates. Measured on 2 busy cores: ~50 ms per case instead of ~500 ms with XLA's
# defaults. No fast-math: they change rounding only (LLVM's instruction choices at -O0),
# within 10 ulps of each tensor's scale (tests/crosscheck/frameworks/test_jax_oracle.py).
COMPILER_OPTIONS = {
    "xla_backend_optimization_level": 0,
    "xla_llvm_disable_expensive_passes": True,
    "xla_cpu_use_fusion_emitters": False,
    "xla_cpu_parallel_codegen_split_count": 1,
}
CACHE_SIZE = 64  # compiled backprops kept, by (activations, loss, shapes, dtypes)
_COMPILED: dict = {}


def available() -> str | None:
    """None when jax imports, else why not (one line)."""
    try:
        import_jax()
    except ImportError as err:
        return str(err)
    return None


def describe() -> str:
    """The jax found: "JAX 0.10.2, jaxlib 0.10.2 (CPU)" (the oracle runs on the CPU,
    whatever accelerator JAX also sees)."""
    jax = import_jax()
    import jaxlib

    return f"JAX {jax.__version__}, jaxlib {jaxlib.__version__} (CPU)"


def build(net: refnet.Network, l2: float = 0.0):
    """(to_jax(net), activation names, l2, dtype): the pytree, what it computes and the
    L2 factor its loss adds (LS6)."""
    return to_jax(net), activations_of(net), float(l2), net.dtype


def backprop(
    built, X, Y, loss: str, reduction="sum_over_batch_size", pins=None, masks=None
):
    """Loss, output, every z, a, delta, dW, db, dX of the pytree by jax.value_and_grad.

    ``pins`` (per layer None or (mask, values)): z[l] becomes
    ``z + stop_gradient(where(mask, values - z, 0))``: refnet's values there in the
    forward pass, JAX's own gradients. ``masks`` (per layer None or an (n, n_l) array):
    dropout in training mode with refnet's masks, the next layer reads m * a[l] (BP6,
    BP7). Runs on the CPU; a float64 network inside JAX's 64-bit scope only.

    ``model_output`` is ``output``: JAX has no model object whose own call could differ
    from the layer-by-layer run (``bridge.forward``, what a user of ``to_jax`` calls,
    is ``layer_by_layer`` without the tap), so its model(X) row compares a function
    with itself; tracing it a second time cost ~15 % of each case's time.
    """
    jax = import_jax()
    params, activations, l2, dtype = built
    dtype = np.dtype(dtype)
    with x64_for(dtype):
        args, y_np = _arguments(jax, params, dtype, X, Y, loss, pins, masks)
        leaves, tree = jax.tree_util.tree_flatten(args)
        key = (
            tuple(activations),
            loss,
            reduction,
            l2,
            jax.config.jax_enable_x64,
            tree,
        ) + tuple((leaf.shape, leaf.dtype) for leaf in leaves)
        if key not in _COMPILED:
            if len(_COMPILED) >= CACHE_SIZE:
                _COMPILED.pop(next(iter(_COMPILED)))  # the oldest
            _COMPILED[key] = _compile(jax, activations, loss, reduction, l2, args)
        value, out, zs, acts, grads = _COMPILED[key](*args)
    d_params, d_x, d_e = grads
    k = params[-1][0].shape[1]

    def arr(t):
        return np.array(t, dtype=dtype)

    return {
        "loss": float(value),
        "output": arr(out),
        "model_output": arr(out),  # forward is this very function (see backprop)
        "z": [arr(z) for z in zs],
        "a": [arr(t) for t in acts],
        "y": np.eye(k)[y_np] if y_np.ndim == 1 else y_np,
        "delta": [arr(d) for d in d_e],
        "dW": [arr(dW) for dW, _ in d_params],
        "db": [None if db is None else arr(db) for _, db in d_params],
        "dX": arr(d_x),
    }


def _arguments(jax, params, dtype, X, Y, loss, pins, masks) -> tuple:
    """((params, x, e, y, pinned, dropout) as jax arrays on the CPU, the targets as
    NumPy rows or ids): e[l] the zeros added to z[l], pinned[l] None or (mask, values),
    dropout None or per layer None or a mask."""
    cpu = jax.devices("cpu")[0]

    def put(w, dtype=dtype):  # in net's dtype on the CPU (device_put: no compile)
        return None if w is None else jax.device_put(np.asarray(w, dtype), cpu)

    k = params[-1][0].shape[1]
    y_np = jax_targets(loss, Y, k, dtype)
    y = put(y_np, np.int32 if y_np.ndim == 1 else dtype)  # ids: int32 in any mode
    x = put(X)
    params = [(put(W), put(b)) for W, b in params]
    e = [put(np.zeros((x.shape[0], W.shape[1]))) for W, _ in params]  # no compile
    pinned = [None] * len(params)
    for l, pin in enumerate(pins or ()):
        if pin is not None:
            pinned[l] = (put(pin[0], bool), put(pin[1]))
    dropout = None if masks is None else [put(m) for m in masks]
    return (params, x, e, y, pinned, dropout), y_np


def _compile(jax, activations, loss, reduction, l2, args):
    """The whole backprop as one XLA executable for these argument shapes: (loss,
    output, [z], [a], (dparams, dX, de)); compiled with
    COMPILER_OPTIONS (without them where this XLA lacks one)."""
    jnp = jax.numpy

    def objective(params, x, e, y, pinned, dropout):
        def tap(l, z):
            if pinned[l] is not None:
                mask, values = pinned[l]
                z = z + jax.lax.stop_gradient(jnp.where(mask, values - z, 0))
            return z + e[l]

        out, zs, acts = layer_by_layer(params, x, activations, dropout, tap)
        value = reduce(loss_per_row(loss, out, y), reduction)
        if l2:
            value = value + sum(l2 * (W**2).sum() for W, _ in params)
        return value, (out, zs, acts)

    grad = jax.value_and_grad(objective, argnums=(0, 1, 2), has_aux=True)

    def run(params, x, e, y, pinned, dropout):
        (value, (out, zs, acts)), grads = grad(params, x, e, y, pinned, dropout)
        return value, out, zs, acts, grads

    lowered = jax.jit(run).lower(*args)
    try:
        return lowered.compile(compiler_options=COMPILER_OPTIONS)
    except RuntimeError:  # an XLA without one of the options (JaxRuntimeError)
        return lowered.compile()
