"""torch, imported on first use: :func:`import_torch`, so ``import crosscheck`` works
without PyTorch installed."""

from __future__ import annotations


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

