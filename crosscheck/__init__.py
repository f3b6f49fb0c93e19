"""crosscheck: build the identical network in TensorFlow/Keras and PyTorch, compare
quantity by quantity.

Modules: ``check`` (compare, assert_match: refnet's backprop against every oracle),
``oracles`` (one module per framework behind one protocol: ``tensorflow``, ``pytorch``),
``keras_bridge`` (to_keras, from_keras), ``keras_models`` (reading a user's Keras
model as refnet layers), ``keras_files`` (a saved .keras/.h5 file and its compiled
loss), ``torch_bridge`` (to_torch, from_torch), ``tolerance`` (TOL1 and the
frameworks' quirks), ``report`` (Report, Row), ``matrix`` (the built-in cases), ``bugs``
(the seeded-bug catalog), ``training`` (compare_training against Keras) and
``training_torch`` (against torch.optim), ``cli`` (``python -m crosscheck``), and for
checking *your own* backprop: ``mine`` (check_backprop), ``conventions`` (keras,
nielsen, cs231n), ``returned`` (reading what your function returns), ``diagnose``
(what is wrong, in words), ``mine_cli`` (``crosscheck mine``).

>>> import crosscheck
>>> crosscheck.policy_rtol("float64", n=100) < 1e-13
True

TensorFlow and PyTorch are imported on first use (``to_keras``, ``to_torch``, ``compare``,
``compare_training``), never at import time: ``import crosscheck`` works without them.
"""

from .check import assert_match, compare, tf_backprop
from .keras_bridge import from_keras, to_keras
from .mine import BackpropReport, check_backprop
from .report import Report, Row
from .tolerance import compare_tensor, policy_rtol
from .torch_bridge import from_torch, to_torch
from .training import compare_training

__all__ = [
    "BackpropReport",
    "Report",
    "Row",
    "assert_match",
    "check_backprop",
    "compare",
    "compare_tensor",
    "compare_training",
    "from_keras",
    "from_torch",
    "policy_rtol",
    "tf_backprop",
    "to_keras",
    "to_torch",
]
