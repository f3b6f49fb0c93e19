"""Training against Keras' optimizers: the tf framework's training slot.

``compare_training(..., oracle="tf")`` (crosscheck/training.py) runs :func:`run` in the
TensorFlow worker: refnet's optimizer, with Keras' float32 hyper-parameters mirrored
(:func:`keras_mirror`), against the Keras 3 optimizer of the same configuration
(:func:`keras_optimizer`) on ``to_keras(net)``, comparing every weight after every step.

Keras' float32 hyper-parameters, mirrored here and only here (refnet's math uses the exact
values; docs/design.md): ``learning_rate`` lives in a float32 variable (also under a schedule,
whose value Keras computes in float32), SGD casts ``momentum`` through float32
(``ops.cast(0.9, "float64")`` is 0.89999997615814209), and Adam casts ``beta_1`` and
``beta_2`` through float32 inside the bias-correction powers beta^t only (its
``1 - beta`` factors and epsilon stay exact Python floats, as do all of RMSprop's).
Without the mirror, float64 weights differ from Keras' by ~1e-8 relative to the distance
they moved.
"""

from __future__ import annotations

import copy
import math

import numpy as np

import refnet
from refnet import optimizers as ropt

from ...training_report import Tracker, TrainingReport
from .bridge import to_keras
from .imports import tf_and_keras
from .losses import keras_loss

TITLE = ""  # the report's title names no framework: Keras is the default oracle
ROW_SKIP = ("SGD momentum", "SGD momentum ExponentialDecay")  # the Keras rows as before
ROW_RMSPROP = {}  # Keras' RMSprop takes refnet's epsilon as is


def _f32(x: float) -> float:
    return float(np.float32(x))


class _KerasExponentialDecay:
    """LR1 as Keras computes it: in float32 (initial * rate ** (step / decay_steps))."""

    def __init__(self, schedule: ropt.ExponentialDecay):
        self.schedule = schedule

    def __call__(self, step: int) -> float:
        s = self.schedule
        f = np.float32
        p = f(step) / f(s.decay_steps)
        if s.staircase:
            p = np.floor(p)
        return float(f(s.initial_learning_rate) * f(s.decay_rate) ** p)


class _KerasAdam(ropt.Adam):
    """Adam with beta_1, beta_2 rounded to float32 inside the powers beta^t, as Keras."""

    def step_size(self, lr: float, t: int) -> float:
        beta_1_power = _f32(self.beta_1) ** t
        beta_2_power = _f32(self.beta_2) ** t
        return lr * math.sqrt(1 - beta_2_power) / (1 - beta_1_power)


def keras_mirror(optimizer: ropt.Optimizer) -> ropt.Optimizer:
    """A fresh refnet optimizer that rounds hyper-parameters where Keras 3 does.

    learning_rate -> float32 (a schedule is evaluated in float32); SGD's momentum ->
    float32; Adam's betas -> float32 inside beta^t only. RMSprop: learning_rate only.
    """
    config = optimizer.get_config()
    lr = config["learning_rate"]
    if isinstance(lr, ropt.ExponentialDecay):
        config["learning_rate"] = _KerasExponentialDecay(lr)
    elif callable(lr):
        raise ValueError(
            f"optimizer: only constant rates and ExponentialDecay are mirrored, got {lr!r}"
        )
    else:
        config["learning_rate"] = _f32(lr)
    if isinstance(optimizer, ropt.SGD):
        config["momentum"] = _f32(config["momentum"])
        return ropt.SGD(**config)
    if isinstance(optimizer, ropt.RMSprop):
        return ropt.RMSprop(**config)
    if isinstance(optimizer, ropt.Adam):
        return _KerasAdam(**config)
    raise TypeError(
        f"optimizer: expected refnet SGD, RMSprop or Adam, got {type(optimizer).__name__}"
    )


def keras_optimizer(optimizer: ropt.Optimizer):
    """The Keras 3 optimizer with the same configuration (and a fresh state)."""
    _, keras = tf_and_keras()
    config = optimizer.get_config()
    lr = config["learning_rate"]
    if isinstance(lr, ropt.ExponentialDecay):
        config["learning_rate"] = keras.optimizers.schedules.ExponentialDecay(
            lr.initial_learning_rate, lr.decay_steps, lr.decay_rate, lr.staircase
        )
    cls = {ropt.SGD: "SGD", ropt.RMSprop: "RMSprop", ropt.Adam: "Adam"}
    for refnet_cls, name in cls.items():
        if isinstance(optimizer, refnet_cls):
            return getattr(keras.optimizers, name)(**config)
    raise TypeError(
        f"optimizer: expected refnet SGD, RMSprop or Adam, got {type(optimizer).__name__}"
    )


def run(
    report: TrainingReport,
    net,
    batches,
    loss_name: str,
    optimizer,
    sources: list,
    w0: list,
    rtol: float,
    mirror: bool = True,
    **_,
) -> TrainingReport:
    """compare_training's steps against Keras' optimizers, in this process.

    ``mirror``: refnet runs :func:`keras_mirror` (default) or the exact optimizer."""
    dtype = net.dtype
    tf, _ = tf_and_keras()  # without TF's start-up log lines

    for source in sources:
        ref_net = copy.deepcopy(net)
        ref_opt = (
            keras_mirror(optimizer)
            if mirror
            else type(optimizer)(**optimizer.get_config())
        )
        model = to_keras(net)
        k_opt = keras_optimizer(optimizer)
        k_loss = keras_loss(loss_name, dtype.name)
        tracker = Tracker(source, w0, rtol, net.weight_names())
        for step, (xb, yb) in enumerate(batches(), start=1):
            res = ref_net.gradients(xb, yb, loss_name)
            if source == "update":
                grads = [tf.constant(g) for g in res.grads()]
            else:
                y = refnet.losses.get(loss_name).prepare(yb, res.a[-1])
                with tf.GradientTape() as tape:
                    xin = xb.reshape((xb.shape[0], *model.inputs[0].shape[1:]))  # FL1
                    out = model(tf.constant(xin), training=True)
                    value = k_loss(tf.constant(y), out)
                grads = tape.gradient(value, model.trainable_variables)
            k_opt.apply_gradients(zip(grads, model.trainable_variables))
            ref_opt.apply(ref_net, res)
            got = ref_net.get_weights()
            ref = [v.numpy() for v in model.trainable_variables]
            tracker.add(step, got, ref)
        report.rows.extend(tracker.rows())
        report.rel_moved.update(tracker.rel_moved)
    return report
