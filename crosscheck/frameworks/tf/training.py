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

Learning-rate schedules (LR1-LR3). ``ExponentialDecay`` and ``InverseTimeDecay`` (power 1)
map to Keras' own schedules of those names, which compute in float32: mirrored in refnet
(:class:`_KerasExponentialDecay`, :class:`_KerasInverseTimeDecay`, the same float32
operations in the same order). Keras has no power != 1 and no 1cycle schedule: those map
to two ``keras.optimizers.schedules.LearningRateSchedule`` subclasses written here
(:func:`keras_schedules`), from the schedules' formulas (LR2, LR3) in ``keras.ops`` and
in float64, so refnet runs them unmirrored. They check that refnet's schedule drives
Keras' optimizer step by step (evaluated at ``optimizer.iterations``, cast to the
weights' dtype), not the formula itself: torch's ``OneCycleLR`` and the values worked
by hand do that (tests/refnet/test_optimizers.py, crosscheck/frameworks/torch/training.py).
"""

from __future__ import annotations

import copy
import functools
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


def _progress32(step: int, schedule) -> np.float32:
    """Keras' decay progress in float32: step / decay_steps, floored when staircase."""
    p = np.float32(step) / np.float32(schedule.decay_steps)
    return np.floor(p) if schedule.staircase else p


class _KerasExponentialDecay:
    """LR1 as Keras computes it: in float32 (initial * rate ** (step / decay_steps))."""

    def __init__(self, schedule: ropt.ExponentialDecay):
        self.schedule = schedule

    def __call__(self, step: int) -> float:
        s, f = self.schedule, np.float32
        return float(
            f(s.initial_learning_rate) * f(s.decay_rate) ** _progress32(step, s)
        )


class _KerasInverseTimeDecay:
    """LR2 with power 1 as Keras computes it: in float32, initial / (1 + rate * p),
    p = step / decay_steps (floored when staircase)."""

    def __init__(self, schedule: ropt.InverseTimeDecay):
        self.schedule = schedule

    def __call__(self, step: int) -> float:
        s, f = self.schedule, np.float32
        p = _progress32(step, s)
        return float(f(s.initial_learning_rate) / (f(1) + f(s.decay_rate) * p))


class _PowerDecayRule:
    """LR2: initial / (1 + rate * p) ** power, p = step / decay_steps (floored when
    staircase); Keras' InverseTimeDecay raised to ``power``, in float64."""

    def __init__(
        self, initial_learning_rate, decay_steps, decay_rate, staircase, power
    ):
        self.config = dict(
            initial_learning_rate=initial_learning_rate,
            decay_steps=decay_steps,
            decay_rate=decay_rate,
            staircase=staircase,
            power=power,
        )

    def __call__(self, step):
        ops = tf_and_keras()[1].ops
        c = self.config
        p = ops.cast(step, "float64") / float(c["decay_steps"])
        if c["staircase"]:
            p = ops.floor(p)
        denom = ops.power(1.0 + c["decay_rate"] * p, c["power"])
        return c["initial_learning_rate"] / denom

    def get_config(self):
        return dict(self.config)


class _OneCycleRule:
    """LR3: the 1cycle rate of torch's OneCycleLR (cycle_momentum=False), in float64.

    Phases end at t_1 = pct_start T - 1 (and t_2 = 2 pct_start T - 2 with three_phase)
    and T - 1; within a phase the rate anneals from its start to its end value by cos
    (b + (a - b)(1 + cos(pi x)) / 2) or linearly ((b - a) x + a); past T - 1 it holds.
    """

    def __init__(
        self,
        max_learning_rate,
        total_steps,
        pct_start,
        anneal_strategy,
        div_factor,
        final_div_factor,
        three_phase,
    ):
        self.config = dict(
            max_learning_rate=max_learning_rate,
            total_steps=total_steps,
            pct_start=pct_start,
            anneal_strategy=anneal_strategy,
            div_factor=div_factor,
            final_div_factor=final_div_factor,
            three_phase=three_phase,
        )

    def _anneal(self, a, b, x):
        if self.config["anneal_strategy"] == "cos":
            return b + (a - b) / 2.0 * (tf_and_keras()[1].ops.cos(math.pi * x) + 1)
        return (b - a) * x + a

    def __call__(self, step):
        ops = tf_and_keras()[1].ops
        c = self.config
        T, pct = c["total_steps"], c["pct_start"]
        top = c["max_learning_rate"]
        low = top / c["div_factor"]
        bottom = low / c["final_div_factor"]
        knots = [(float(pct * T) - 1, low, top)]  # (end step, start rate, end rate)
        if c["three_phase"]:
            knots.append((float(2 * pct * T) - 2, top, low))
        knots.append((T - 1, knots[-1][2], bottom))
        t = ops.minimum(ops.cast(step, "float64"), float(T - 1))
        values, start = [], 0.0
        for end, a, b in knots:
            values.append(self._anneal(a, b, (t - start) / (end - start)))
            start = end
        lr = values[-1]
        for (end, _, _), value in zip(knots[-2::-1], values[-2::-1]):
            lr = ops.where(t <= end, value, lr)
        return lr

    def get_config(self):
        return dict(self.config)


@functools.cache
def keras_schedules():
    """(PowerDecay, OneCycle): the two ``LearningRateSchedule`` subclasses Keras lacks,
    written for this oracle from LR2 and LR3 in ``keras.ops``, in float64
    (:class:`_PowerDecayRule`, :class:`_OneCycleRule`).

    Built on first use (Keras is imported in the worker only). Past ``total_steps`` the
    1cycle rate holds its last value, as refnet documents (torch raises there).
    """
    _, keras = tf_and_keras()
    base = keras.optimizers.schedules.LearningRateSchedule
    power_decay = type("PowerDecay", (_PowerDecayRule, base), {})
    one_cycle = type("OneCycle", (_OneCycleRule, base), {})
    return power_decay, one_cycle


def keras_schedule(lr):
    """The Keras schedule for a refnet schedule: Keras' own for ExponentialDecay and
    InverseTimeDecay (power 1), :func:`keras_schedules`' for the others."""
    _, keras = tf_and_keras()
    schedules = keras.optimizers.schedules
    if isinstance(lr, ropt.ExponentialDecay):
        return schedules.ExponentialDecay(
            lr.initial_learning_rate, lr.decay_steps, lr.decay_rate, lr.staircase
        )
    if isinstance(lr, ropt.InverseTimeDecay) and lr.power == 1:
        return schedules.InverseTimeDecay(
            lr.initial_learning_rate, lr.decay_steps, lr.decay_rate, lr.staircase
        )
    power_decay, one_cycle = keras_schedules()
    if isinstance(lr, ropt.InverseTimeDecay):
        return power_decay(
            lr.initial_learning_rate,
            lr.decay_steps,
            lr.decay_rate,
            lr.staircase,
            lr.power,
        )
    if isinstance(lr, ropt.OneCycle):
        return one_cycle(
            lr.max_learning_rate,
            lr.total_steps,
            lr.pct_start,
            lr.anneal_strategy,
            lr.div_factor,
            lr.final_div_factor,
            lr.three_phase,
        )
    raise ValueError(
        "optimizer: only constant rates, ExponentialDecay, InverseTimeDecay and OneCycle "
        f"map to Keras, got {lr!r}"
    )


class _KerasAdam(ropt.Adam):
    """Adam with beta_1, beta_2 rounded to float32 inside the powers beta^t, as Keras."""

    def step_size(self, lr: float, t: int) -> float:
        beta_1_power = _f32(self.beta_1) ** t
        beta_2_power = _f32(self.beta_2) ** t
        return lr * math.sqrt(1 - beta_2_power) / (1 - beta_1_power)


def keras_mirror(optimizer: ropt.Optimizer) -> ropt.Optimizer:
    """A fresh refnet optimizer that rounds hyper-parameters where Keras 3 does.

    learning_rate -> float32 (Keras' own schedules are evaluated in float32; the float64
    ones of :func:`keras_schedules` are not mirrored); SGD's momentum -> float32; Adam's
    betas -> float32 inside beta^t only. RMSprop: learning_rate only.
    """
    config = optimizer.get_config()
    lr = config["learning_rate"]
    if isinstance(lr, ropt.ExponentialDecay):
        config["learning_rate"] = _KerasExponentialDecay(lr)
    elif isinstance(lr, ropt.InverseTimeDecay) and lr.power == 1:
        config["learning_rate"] = _KerasInverseTimeDecay(lr)
    elif isinstance(lr, (ropt.InverseTimeDecay, ropt.OneCycle)):
        pass  # keras_schedules' float64 subclasses: refnet's exact schedule
    elif callable(lr):
        raise ValueError(
            "optimizer: only constant rates, ExponentialDecay, InverseTimeDecay and "
            f"OneCycle are mirrored, got {lr!r}"
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
    if callable(config["learning_rate"]):
        config["learning_rate"] = keras_schedule(config["learning_rate"])
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
