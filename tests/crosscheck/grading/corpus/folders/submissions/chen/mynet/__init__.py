"""Chen's package: the backward pass lives in mynet.backward."""

from .backward import backward, forward

__all__ = ["backward", "forward"]
