"""torch, imported on first use: :func:`import_torch`, so ``import crosscheck`` works
without PyTorch installed."""

from __future__ import annotations

import importlib.util
import sys


def import_torch():
    """torch, imported on first use; ImportError saying how to install it otherwise.

    Where torch ships triton (PyPI's CUDA build on Linux), ``torch.optim`` imports it, and
    triton's library crashes a process that has TensorFlow loaded (a segfault; see
    ``crosscheck.frameworks.CONFLICTS``). Imported before TensorFlow, torch's compiler stack
    (``torch._dynamo``, which loads triton) is imported here at once, so TensorFlow can
    follow safely. crosscheck's own calls run each framework in its own process anyway
    (crosscheck/frameworks/workers.py); this guards the caller's process.
    """
    try:
        import torch
    except ImportError as err:
        raise ImportError(
            f"crosscheck's PyTorch oracle needs torch ({err}); install it with "
            "pip install torch --index-url https://download.pytorch.org/whl/cpu (the CPU "
            "build; PyPI's default on Linux is the CUDA build, several GB)"
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
