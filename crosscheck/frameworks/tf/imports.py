"""TensorFlow and Keras, imported once per process and quietly: :func:`tf_and_keras`.

Everything of crosscheck that needs TensorFlow asks this module for it, on first use,
so ``import crosscheck`` stays cheap and works without TensorFlow installed.
"""

from __future__ import annotations

import os
import sys
import tempfile

_MODULES: dict = {}


# What TensorFlow 2.21 writes to the C-level stderr while it is imported, whatever
# TF_CPP_MIN_LOG_LEVEL says: absl's start-up line, the oneDNN notice (twice) and the
# CPU-feature notice. Only TF_ENABLE_ONEDNN_OPTS=0 prevents them, and that changes the
# float32 numbers being checked, so instead these lines are dropped while importing.
_TF_START_UP_NOISE = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "cpu_feature_guard.cc",
    "To enable the following instructions:",
)


def import_tensorflow_quietly():
    """Import tensorflow and keras with TF's start-up log lines kept off the terminal.

    File descriptor 2 points to a temporary file during the import; afterwards every
    line that is not one of the known start-up notices is written back to stderr, so a
    real error still shows (in a worker process, stderr is a file the caller quotes
    when the worker dies). What TF logs later (after the import) is not filtered.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return sys.modules["tensorflow"], sys.modules["keras"]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow as tf
        except ImportError as err:
            raise ImportError(
                f"crosscheck needs TensorFlow and Keras ({err}); install them with "
                "pip install 'refnet[tf]' (or pip install tensorflow keras)"
            ) from None
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
    for line in text.splitlines():
        if line.strip() and not any(noise in line for noise in _TF_START_UP_NOISE):
            print(line, file=sys.stderr)
    return tf, keras


def tf_and_keras():
    """(tensorflow, keras), imported on first use without TF's start-up log lines."""
    if not _MODULES:
        tf, keras = import_tensorflow_quietly()
        _MODULES["tf"], _MODULES["keras"] = tf, keras
        _register_gelu_tanh(keras)
    return _MODULES["tf"], _MODULES["keras"]


def _register_gelu_tanh(keras) -> None:
    """A named, serializable Keras activation for gelu's tanh approximation."""

    @keras.saving.register_keras_serializable(package="crosscheck", name="gelu_tanh")
    def gelu_tanh(x):
        """f(z) = z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2: keras gelu, approximate=True."""
        return keras.activations.gelu(x, approximate=True)

    _MODULES["gelu_tanh"] = gelu_tanh
