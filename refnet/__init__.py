"""refnet: fully connected neural networks in NumPy, backpropagation written out by hand.

>>> import refnet
>>> net = refnet.Network.build([3, 5, 2], activations=["relu", "linear"], seed=0)
>>> net.count_params()
32
"""

from . import activations, datasets, dropout, losses, optimizers
from .gradcheck import gradcheck
from .layers import Dense
from .network import Gradients, Network
from .params import count_params

__all__ = [
    "Dense",
    "Gradients",
    "Network",
    "activations",
    "count_params",
    "datasets",
    "dropout",
    "gradcheck",
    "losses",
    "optimizers",
]
__version__ = "0.1.0"
