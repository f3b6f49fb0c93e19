"""crosscheck: build the identical network in TensorFlow/Keras and compare quantity by quantity.

>>> import crosscheck
>>> crosscheck.policy_rtol("float64", n=100) < 1e-13
True

TensorFlow is imported on first use (``to_keras``, ``compare``, ``compare_training``),
never at import time: ``import crosscheck`` works without TensorFlow installed.
"""

from .compare import assert_match, compare, tf_backprop
from .keras_bridge import from_keras, to_keras
from .report import Report, Row
from .tolerance import compare_tensor, policy_rtol
from .training import compare_training

__all__ = [
    "Report",
    "Row",
    "assert_match",
    "compare",
    "compare_tensor",
    "compare_training",
    "from_keras",
    "policy_rtol",
    "tf_backprop",
    "to_keras",
]
