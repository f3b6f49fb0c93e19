"""Crosscheck of training: the same optimizer steps in refnet and in Keras, weight by weight.

``compare_training(net, X, Y, loss, optimizer, steps)`` copies ``net`` into a Keras model
(tf.Variables of the net's dtype) and takes ``steps`` optimizer steps on both sides,
comparing every weight after every step. Two gradient sources, both run by default:

``"update"``
    refnet's own gradients (``net.gradients``) are fed to Keras'
    ``optimizer.apply_gradients``: both sides apply the update rule to identical numbers,
    so any difference is the update rule itself (OPT1-OPT3, GD1, LR1). Float64 agrees to
    a few ulps of the weights.
``"tape"``
    Keras computes its own gradients with ``tf.GradientTape`` through its own Dense layers
    and loss, as ``model.fit`` would: the end-to-end check, where gradient rounding
    differences enter too and compound over the steps.

Keras' float32 hyper-parameters, mirrored here and only here (refnet's math uses the exact
values; docs/design.md): ``learning_rate`` lives in a float32 variable (also under a schedule,
whose value Keras computes in float32), SGD casts ``momentum`` through float32
(``ops.cast(0.9, "float64")`` is 0.89999997615814209), and Adam casts ``beta_1`` and
``beta_2`` through float32 inside the bias-correction powers beta^t only (its
``1 - beta`` factors and epsilon stay exact Python floats, as do all of RMSprop's).
:func:`keras_mirror` builds the refnet optimizer with that rounding. Without the mirror,
float64 weights differ from Keras' by ~1e-8 relative to the distance they moved.

Tolerance (TOL1 via ``crosscheck.tolerance.compare_tensor``, per weight tensor, after
every step): |got - ref| <= atol + rtol |ref| elementwise and ||got - ref|| / ||ref|| <=
rtol, with rtol = policy_rtol(dtype, n, depth) sqrt(steps), atol = rtol max|ref|, n the
longest reduction (max of layer widths and batch rows). The report also gives each tensor's error relative to the distance the weights
moved from their start, max|got - ref| / max|ref - W0|, the sharper measure of an update
rule (a wrong float32 rounding shows there as ~1e-8).

Against PyTorch, ``compare_training(..., oracle="torch")`` takes the same steps through
``torch.optim`` (crosscheck/training_torch.py states the hyper-parameter mapping, its
exact per-step conversions and RMSprop's epsilon bound); torch keeps hyper-parameters as
Python floats, so refnet runs with its exact values there (no mirror).
:func:`training_matrix` gives the rows of ``python -m crosscheck`` for each oracle.

TensorFlow and torch are imported lazily, inside the functions.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import refnet
from refnet import optimizers as ropt
from refnet.validation import check_bool, check_input, check_rows, check_size

from .keras_bridge import tf_and_keras, to_keras
from .oracles import workers
from .report import Report, Row, crash_row
from .tolerance import compare_tensor, policy_rtol

# ---------------------------------------------------------------------------------
# Keras' float32 hyper-parameters, mirrored
# ---------------------------------------------------------------------------------


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
    import keras

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


# ---------------------------------------------------------------------------------
# The Keras side (the model is crosscheck.to_keras(net))
# ---------------------------------------------------------------------------------


def keras_loss(loss: str, dtype: str):
    """The Keras 3 loss matching refnet's, computing in ``dtype`` (not floatx).

    Targets are passed as refnet prepares them (one-hot rows for class ids).
    """
    import keras

    table = {
        "mse": lambda: keras.losses.MeanSquaredError(dtype=dtype),
        "softmax_cross_entropy": lambda: keras.losses.CategoricalCrossentropy(
            from_logits=True, dtype=dtype
        ),
        "categorical_cross_entropy": lambda: keras.losses.CategoricalCrossentropy(
            from_logits=False, dtype=dtype
        ),
        "binary_cross_entropy": lambda: keras.losses.BinaryCrossentropy(
            from_logits=True, dtype=dtype
        ),
    }
    if loss not in table:
        raise ValueError(f"loss: expected one of {sorted(table)}, got {loss!r}")
    return table[loss]()


# ---------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------


@dataclass
class TrainingReport(Report):
    """crosscheck's :class:`Report`, one row per gradient source and weight tensor.

    Each row (``update/W1``, ``tape/b2``, ...) is the worst step for that tensor; its note
    names the step and the error relative to the distance moved. ``rel_moved`` maps each
    row name to max over steps of max|got - ref| / max|ref - W0|. ``bounds`` holds
    measured bounds of rule differences with no exact conversion (against torch:
    ``update/rmsprop_epsilon``, crosscheck/training_torch.py).
    """

    rel_moved: dict[str, float] = field(default_factory=dict)
    bounds: dict[str, float] = field(default_factory=dict)

    def worst_moved(self, source: str | None = None) -> float:
        """The largest error relative to the distance moved, over rows of ``source``."""
        return max(
            (v for k, v in self.rel_moved.items() if source in (None, k.split("/")[0])),
            default=0.0,
        )


def training_rtol(dtype, n: int, depth: int, steps: int) -> float:
    """TOL1's rtol = C eps sqrt(n) (depth-scaled), grown by sqrt(steps) for the updates."""
    return policy_rtol(dtype, n, depth) * math.sqrt(steps)


class _Tracker:
    """The worst row per weight tensor across the steps."""

    def __init__(self, source: str, w0: list, rtol: float, names: list | None = None):
        self.source, self.w0, self.rtol = source, w0, rtol
        # the weights' names, ["W1", "b1", "W2", ...] (a layer without bias has no b)
        self.names = names or [f"{'Wb'[i % 2]}{i // 2 + 1}" for i in range(len(w0))]
        self.worst: dict[str, tuple[int, Row]] = {}
        self.rel_moved: dict[str, float] = {}

    def add(self, step: int, got: list, ref: list) -> None:
        for i, (g, r, w0) in enumerate(zip(got, ref, self.w0)):
            name = f"{self.source}/{self.names[i]}"
            row = compare_tensor(name, g, r, self.rtol)
            moved = float(np.abs(np.asarray(r, np.float64) - w0).max())
            err = row.max_abs_err
            rel = err / moved if moved else (0.0 if err == 0 else math.inf)
            self.rel_moved[name] = max(self.rel_moved.get(name, 0.0), rel)
            if name not in self.worst or row.ratio > self.worst[name][1].ratio:
                self.worst[name] = (step, row)

    def rows(self) -> list[Row]:
        out = []
        for name, (step, row) in self.worst.items():
            row.note = f"step {step}; err/moved {self.rel_moved[name]:.1e}" + (
                f"; {row.note}" if row.note else ""
            )
            out.append(row)
        return out


# ---------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------


def compare_training(
    net: refnet.Network,
    X,
    Y,
    loss: str,
    optimizer: ropt.Optimizer,
    steps: int = 10,
    gradients: str = "both",
    batch_size: int | None = None,
    mirror: bool = True,
    oracle: str = "tf",
    convert: bool = True,
) -> TrainingReport:
    """Take ``steps`` optimizer steps in refnet and Keras (or torch.optim); compare
    weights after each.

    Parameters
    ----------
    net : Network
        Starting weights; not modified (both sides train copies).
    X, Y : arrays
        Data; each step uses the next ``batch_size`` rows (cycling), all rows if None.
    loss : str
        A refnet loss name.
    optimizer : refnet optimizer
        Its configuration is used (fresh state on both sides): refnet runs
        ``keras_mirror(optimizer)``, Keras runs ``keras_optimizer(optimizer)``.
    steps : int
    gradients : "update", "tape" or "both"
        Gradient source fed to Keras (module docstring).
    mirror : bool
        Mirror Keras' float32 hyper-parameters in refnet (default). False runs the
        exact-hyper-parameter refnet optimizer: shows what the mirror accounts for.
        (oracle "tf" only: against torch refnet always uses the exact values.)
    oracle : "tf" or "torch"
        Keras' optimizers (default) or ``torch.optim`` with the mapping of
        crosscheck/training_torch.py (ImportError with an install hint without torch).
    convert : bool
        oracle "torch" only: apply the exact per-step conversions (Adam's epsilon, the
        momentum under a changing learning rate). False passes the same numbers under
        torch's names: shows what the conversions account for.

    Returns
    -------
    TrainingReport
        One row per gradient source and weight tensor (TOL1; worst step shown).
    """
    if oracle not in ("tf", "torch"):
        raise ValueError(f"oracle: expected 'tf' or 'torch', got {oracle!r}")
    if gradients not in ("update", "tape", "both"):
        raise ValueError(
            f"gradients: expected 'update', 'tape' or 'both', got {gradients!r}"
        )
    if not isinstance(net, refnet.Network):
        raise TypeError(f"net: expected refnet.Network, got {type(net).__name__}")
    mirror, convert = check_bool(mirror, "mirror"), check_bool(convert, "convert")
    optimizer = refnet.optimizers.get(optimizer)  # a name gives Keras' defaults
    lr = optimizer.get_config()["learning_rate"]
    if callable(lr) and not isinstance(lr, ropt.ExponentialDecay):
        raise ValueError(
            "optimizer: only constant rates and ExponentialDecay map to the "
            f"frameworks' optimizers, got {lr!r}"
        )
    steps = check_size(steps, "steps")
    dtype = net.dtype
    X = check_input(X, net.sizes[0], dtype, "X", getattr(net, "input_shape", None))
    n = X.shape[0]
    check_rows(Y, n)
    batch = n if batch_size is None else min(check_size(batch_size, "batch_size"), n)
    w0 = [np.asarray(w, dtype=np.float64) for w in net.get_weights()]
    reduction = max(max(net.sizes), batch)
    rtol = training_rtol(dtype, reduction, len(net.layers), steps)
    sources = ["update", "tape"] if gradients == "both" else [gradients]
    loss_name = refnet.losses.get(loss).name

    report = TrainingReport(
        f"training {'-'.join(map(str, net.sizes))} {net.activations} {loss_name} "
        f"{optimizer!r} {dtype.name}, {steps} steps"
        + (" against torch.optim" if oracle == "torch" else ""),
        [],
    )
    steps_of = _Steps(X, np.asarray(Y), batch, steps)
    try:  # in the framework's own worker process (crosscheck/oracles/workers.py)
        return workers.call(
            oracle, "crosscheck.training:run_training", oracle, report, net, steps_of,
            loss_name, optimizer, sources, w0, rtol, mirror, convert,
        )  # fmt: skip
    except workers.WorkerCrashed as err:  # an error row, not a crashed caller
        report.rows.append(crash_row(err, rtol))
        return report


@dataclass
class _Steps:
    """The batches of compare_training: step k takes the next ``batch`` rows, cycling."""

    X: np.ndarray
    Y: np.ndarray
    batch: int
    steps: int

    def __call__(self):
        n = self.X.shape[0]
        for k in range(self.steps):
            start = (k * self.batch) % n
            idx = np.arange(start, start + self.batch) % n
            yield self.X[idx], self.Y[idx]


def run_training(oracle, report, net, batches, loss_name, optimizer, sources, w0,
                 rtol, mirror, convert) -> TrainingReport:  # fmt: skip
    """compare_training's steps in this process: Keras' or torch.optim's (the worker
    runs this)."""
    if oracle == "torch":
        from .training_torch import run_torch

        return run_torch(
            report, net, batches, loss_name, optimizer, sources, w0, rtol, convert
        )
    return _run_keras(report, net, batches, loss_name, optimizer, sources, w0, rtol,
                      mirror)  # fmt: skip


def _run_keras(report, net, batches, loss_name, optimizer, sources, w0, rtol, mirror):
    """compare_training's loop against Keras' optimizers."""
    dtype = net.dtype
    tf, _ = tf_and_keras()  # without TF's start-up log lines

    for source in sources:
        ref_net = copy.deepcopy(net)
        ref_opt = keras_mirror(optimizer) if mirror else _fresh(optimizer)
        model = to_keras(net)
        k_opt = keras_optimizer(optimizer)
        k_loss = keras_loss(loss_name, dtype.name)
        tracker = _Tracker(source, w0, rtol, net.weight_names())
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


def _fresh(optimizer: ropt.Optimizer) -> ropt.Optimizer:
    """The same configuration with a fresh state."""
    return type(optimizer)(**optimizer.get_config())


def training_cases(oracle: str = "tf") -> list[dict]:
    """The training cases against ``oracle``: optimizers x dtypes, a few steps each.

    Each case is a dict of ``compare_training``'s keyword arguments plus ``name``.
    Against torch the list adds plain momentum and momentum under a schedule (the
    rescaled-momentum conversion), and RMSprop runs with epsilon = 1e-30 on both sides:
    its epsilon placement has no exact conversion (crosscheck/training_torch.py).
    """
    if oracle not in ("tf", "torch"):
        raise ValueError(f"oracle: expected 'tf' or 'torch', got {oracle!r}")
    eps = {"epsilon": 1e-30} if oracle == "torch" else {}
    optimizers = [
        ("SGD", lambda: ropt.SGD(0.1)),
        ("SGD momentum", lambda: ropt.SGD(0.05, momentum=0.9)),
        ("SGD momentum nesterov", lambda: ropt.SGD(0.05, momentum=0.9, nesterov=True)),
        ("RMSprop", lambda: ropt.RMSprop(0.01, **eps)),
        (
            "RMSprop centered momentum",
            lambda: ropt.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True, **eps),
        ),
        ("Adam", lambda: ropt.Adam(0.01)),
        ("Adam amsgrad", lambda: ropt.Adam(0.01, beta_2=0.99, amsgrad=True)),
        (
            "Adam ExponentialDecay",
            lambda: ropt.Adam(ropt.ExponentialDecay(0.02, 5, 0.5)),
        ),
        (
            "SGD momentum ExponentialDecay",
            lambda: ropt.SGD(ropt.ExponentialDecay(0.1, 3, 0.5), momentum=0.9),
        ),
    ]
    if oracle == "tf":  # the Keras rows as before
        skip = ("SGD momentum", "SGD momentum ExponentialDecay")
        optimizers = [o for o in optimizers if o[0] not in skip]
    rng = np.random.default_rng(4)
    X = rng.normal(size=(24, 6))
    y = rng.integers(0, 3, size=24)
    cases = []
    for dtype in ("float64", "float32"):
        for name, make in optimizers:
            net = refnet.Network.build(
                [6, 8, 3], ["tanh", "linear"], seed=1, dtype=dtype
            )
            case = dict(
                name=f"train {name} {dtype} ({oracle})",
                net=net,
                X=X,
                Y=y,
                loss="softmax_cross_entropy",
                optimizer=make(),
                steps=10,
                batch_size=8,
            )
            if oracle != "tf":
                case["oracle"] = oracle
            cases.append(case)
    return cases


def training_matrix(
    oracles=("tf",),
) -> list[tuple[str, Callable[[], TrainingReport]]]:
    """The training rows of ``python -m crosscheck``: (label, callable returning a Report).

    For each oracle in ``oracles`` ("tf", "torch"), optimizers x dtypes from
    :func:`training_cases`, labelled with the oracle; each runs 10 steps of batch 8.
    """
    if isinstance(oracles, str):
        oracles = (oracles,)
    out = []
    for oracle in oracles:
        for case in training_cases(oracle):
            case = dict(case)
            name = case.pop("name")
            out.append((name, functools.partial(compare_training, **case)))
    return out
