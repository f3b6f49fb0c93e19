"""jax, imported on first use: :func:`import_jax`, so ``import crosscheck`` works without
JAX installed; and :func:`x64`, JAX's float64 switched on for one ``with`` block only.

JAX computes in float32 unless ``jax_enable_x64`` is set: without it a float64 NumPy array
becomes a float32 jax array (silently; only operations that ask for a dtype warn), so
a float64 network would be checked in float32. crosscheck never sets the flag for the whole process (with
CROSSCHECK_ISOLATION=inline the oracle runs in the user's own process, where the flag
would change every later jax computation); it enables it inside ``with x64():`` only,
JAX's own context manager (``jax.enable_x64``, thread-local, restored on exit).
"""

from __future__ import annotations

import contextlib

INSTALL = 'pip install "jax[cpu]" optax'


def import_jax():
    """jax, imported on first use; ImportError saying how to install it otherwise."""
    try:
        import jax
    except ImportError as err:
        raise ImportError(
            f"crosscheck's JAX oracle needs jax ({err}); install it with {INSTALL} "
            "(the CPU build)"
        ) from None
    return jax


def import_optax():
    """optax (JAX's optimizers), imported on first use; ImportError otherwise."""
    import_jax()
    try:
        import optax
    except ImportError as err:
        raise ImportError(
            f"crosscheck's JAX training comparison needs optax ({err}); install it "
            f"with {INSTALL}"
        ) from None
    return optax


def x64(enabled: bool = True):
    """A context manager: JAX's 64-bit types on (``enabled``) inside the ``with`` block
    only, the caller's setting restored after it (thread-local: other threads keep
    theirs). ``jax.enable_x64`` where JAX has it, ``jax.experimental.enable_x64`` in
    older releases."""
    jax = import_jax()
    scope = getattr(jax, "enable_x64", None)
    if scope is None:  # older JAX: the experimental spelling
        from jax.experimental import enable_x64 as scope
    return scope(enabled)


def x64_for(dtype):
    """``with x64_for(net.dtype):``: the 64-bit scope for float64, nothing for float32
    (the caller's setting left as it is)."""
    import numpy as np

    return x64() if np.dtype(dtype) == np.float64 else contextlib.nullcontext()
