"""crosscheck: build the identical network in TensorFlow/Keras and compare quantity by quantity.

Modules: ``check`` (compare, assert_match: refnet's backprop against tf.GradientTape),
``keras_bridge`` (to_keras, from_keras), ``keras_models`` (reading a user's Keras
model as refnet layers), ``keras_files`` (a saved .keras/.h5 file and its compiled
loss), ``tolerance`` (TOL1 and the TF quirks),
``report`` (Report, Row), ``matrix`` (the built-in cases), ``bugs`` (the seeded-bug
catalog), ``training`` (compare_training), ``cli`` (``python -m crosscheck``), and for
checking *your own* backprop: ``mine`` (check_backprop), ``conventions`` (keras,
nielsen, cs231n), ``returned`` (reading what your function returns), ``diagnose``
(what is wrong, in words), ``mine_cli`` (``crosscheck mine``).

>>> import crosscheck
>>> crosscheck.policy_rtol("float64", n=100) < 1e-13
True

TensorFlow is imported on first use (``to_keras``, ``compare``, ``compare_training``),
never at import time: ``import crosscheck`` works without TensorFlow installed.
"""

from .check import assert_match, compare, tf_backprop
from .keras_bridge import from_keras, to_keras
from .mine import BackpropReport, check_backprop
from .report import Report, Row
from .tolerance import compare_tensor, policy_rtol
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
    "policy_rtol",
    "tf_backprop",
    "to_keras",
]
