"""crosscheck: build the identical network in TensorFlow/Keras, PyTorch and JAX, compare
quantity by quantity.

    check.py        compare, assert_match: refnet's backprop against every oracle
    training.py     compare_training: optimizer steps against each framework's optimizers
    matrix.py       the built-in cases of ``python -m crosscheck`` (cli.py)
    tolerance.py    TOL1 (policy_rtol, compare_tensor, magnitudes); report.py: Report, Row
    bugs.py         the seeded-bug catalog
    frameworks/     one folder per framework (tf/, torch/, jax/) with the same slots (oracle.py
                    required; imports, bridge, models, files, losses, training where the
                    framework has them), the registry and the worker processes each
                    framework runs in (frameworks/__init__.py)
    mine/           checking *your own* backprop: check_backprop, ``crosscheck mine``
    messages/       the message catalog: every verdict line and diagnosis sentence, in
                    English (en.py) and Chinese (zh.py); ``lang=``, ``--lang``

>>> import crosscheck
>>> crosscheck.policy_rtol("float64", n=100) < 1e-13
True

TensorFlow, PyTorch and JAX are never imported at import time: ``import crosscheck`` works
without them. ``compare``, ``compare_training`` and ``check_backprop`` run each framework
in a worker process of its own (frameworks/workers.py), so the caller's process never
imports one; the bridges (``to_keras``, ``to_torch``, ...) import theirs on first use.
"""

from .check import assert_match, compare
from .frameworks.jax.bridge import from_jax, to_jax
from .frameworks.tf.bridge import to_keras
from .frameworks.tf.models import from_keras
from .frameworks.tf.oracle import tf_backprop
from .frameworks.torch.bridge import to_torch
from .frameworks.torch.models import from_torch
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
    "from_jax",
    "from_keras",
    "from_torch",
    "policy_rtol",
    "tf_backprop",
    "to_jax",
    "to_keras",
    "to_torch",
]
