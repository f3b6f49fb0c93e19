"""Benchmarks: one training step of refnet against TensorFlow and the GEMM floor.

One step is forward + backward on a batch: loss, every dW and db. The backends:

- ``refnet``: ``net.gradients(X, y, "softmax_cross_entropy")``, input validation included;
- ``tf_eager``: the same network as raw TensorFlow ops under ``tf.GradientTape``;
- ``tf_function``: the same step wrapped in ``tf.function``;
- ``tf_xla``: ``tf.function(jit_compile=True)``;
- ``floor``: only the matrix products backprop needs (a @ W and a.T @ delta per layer,
  delta @ W.T for every layer but the first) on the same arrays in NumPy.

Hidden layers are relu, the output layer is linear, the loss is softmax cross-entropy
from logits with int class ids (Keras' sparse categorical cross-entropy).

``python -m bench`` prints a ratio table (see ``--help``);
``pytest bench/ --benchmark-only`` runs the same cases under pytest-benchmark.
"""
