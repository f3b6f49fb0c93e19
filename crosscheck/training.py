"""Crosscheck of training: the same optimizer steps in refnet and in a framework, weight by
weight.

``compare_training(net, X, Y, loss, optimizer, steps, oracle="tf")`` takes ``steps``
optimizer steps in refnet and in each framework asked for (``oracle`` as ``compare``
takes it; Keras by default), comparing every weight after every step. A framework's
side is its training slot, ``crosscheck/frameworks/<name>/training.py`` (Keras'
optimizers for "tf", ``torch.optim`` for "torch"), reached through the registry and run
in that framework's worker process. Two gradient sources, both run by default:

``"update"``
    refnet's own gradients (``net.gradients``) are fed to the framework's optimizer: both
    sides apply the update rule to identical numbers, so any difference is the update
    rule itself (OPT1-OPT3, GD1, LR1-LR3). Float64 agrees to a few ulps of the weights.
``"tape"``
    the framework computes its own gradients through its own layers and loss, as its
    ``fit`` would: the end-to-end check, where gradient rounding differences enter too
    and compound over the steps.

Tolerance (TOL1 via ``crosscheck.tolerance.compare_tensor``, per weight tensor, after
every step): |got - ref| <= atol + rtol |ref| elementwise and ||got - ref|| / ||ref|| <=
rtol, with rtol = policy_rtol(dtype, n, depth) sqrt(steps), atol = rtol max|ref|, n the
longest reduction (max of layer widths and batch rows). The report also gives each
tensor's error relative to the distance the weights moved from their start,
max|got - ref| / max|ref - W0|, the sharper measure of an update rule (a wrong float32
rounding shows there as ~1e-8). Keras' float32 hyper-parameters are mirrored in refnet
(crosscheck/frameworks/tf/training.py); torch keeps them as Python floats, so refnet runs
with its exact values there (crosscheck/frameworks/torch/training.py states the mapping).
:func:`training_matrix` gives the rows of ``python -m crosscheck`` for each framework
that has a training slot.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import refnet
from refnet import optimizers as ropt
from refnet.validation import check_bool, check_input, check_rows, check_size

from . import frameworks
from .frameworks import workers
from .report import combine, crash_row
from .training_report import TrainingReport, training_rtol

# refnet's learning-rate schedules (LR1-LR3) every training slot maps
SCHEDULES = (ropt.ExponentialDecay, ropt.InverseTimeDecay, ropt.OneCycle)


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
    oracle="tf",
    convert: bool = True,
) -> TrainingReport:
    """Take ``steps`` optimizer steps in refnet and in each framework's optimizer
    (Keras', torch.optim, optax); compare weights after each.

    Parameters
    ----------
    net : Network
        Starting weights; not modified (both sides train copies).
    X, Y : arrays
        Data; each step uses the next ``batch_size`` rows (cycling), all rows if None.
    loss : str
        A refnet loss name.
    optimizer : refnet optimizer
        Its configuration is used (fresh state on both sides); against Keras refnet
        runs ``keras_mirror(optimizer)`` and Keras ``keras_optimizer(optimizer)``.
    steps : int
    gradients : "update", "tape" or "both"
        Gradient source fed to Keras (module docstring).
    mirror : bool
        Mirror Keras' float32 hyper-parameters in refnet (default). False runs the
        exact-hyper-parameter refnet optimizer: shows what the mirror accounts for.
        (Keras only: against torch and optax refnet always uses the exact values.)
    oracle : None, str or tuple of str
        As ``compare``'s: frameworks with a training slot, "tf" (Keras' optimizers),
        "torch" (``torch.optim``, the mapping of crosscheck/frameworks/torch/training.py)
        or "jax" (optax, crosscheck/frameworks/jax/training.py); None: every installed
        one. One name gives that framework's report as is (ImportError with an install
        hint where it is missing); several give one row per weight tensor with refnet
        against each (``row.oracles``), passing when refnet agrees with every one (a
        framework not installed is skipped with a note). The frameworks' weights stay
        in their workers, so training rows hold no oracle-vs-oracle pairs. The default
        is Keras alone, not every framework as in ``compare``: torch places RMSprop's
        epsilon outside the square root, a real difference of the rules that no
        conversion removes, so RMSprop with a usual epsilon fails against torch by
        design (chapter 8, "Training").
    convert : bool
        torch and optax: apply the exact per-step conversions (Adam's epsilon, the
        momentum under a changing learning rate; optax's AMSGrad and schedules too).
        False passes the same numbers under the framework's names: shows what the
        conversions account for.

    Returns
    -------
    TrainingReport
        One row per gradient source and weight tensor (TOL1; worst step shown).
    """
    single = isinstance(oracle, str)
    for name in [oracle] if single else _wanted(oracle):
        _training_slot(name)  # ValueError naming the frameworks that have one
    if gradients not in ("update", "tape", "both"):
        raise ValueError(
            f"gradients: expected 'update', 'tape' or 'both', got {gradients!r}"
        )
    if not isinstance(net, refnet.Network):
        raise TypeError(f"net: expected refnet.Network, got {type(net).__name__}")
    if any(net.dropout):  # the frameworks would draw their own masks in training mode
        raise ValueError(
            f"net: expected a network without dropout, got rates {list(net.dropout)}; "
            "compare_training replays steps without shared masks (compare(..., "
            "masks=...) checks one step of a dropout network)"
        )
    mirror, convert = check_bool(mirror, "mirror"), check_bool(convert, "convert")
    optimizer = refnet.optimizers.get(optimizer)  # a name gives Keras' defaults
    lr = optimizer.get_config()["learning_rate"]
    if callable(lr) and not isinstance(lr, SCHEDULES):
        raise ValueError(
            "optimizer: only constant rates and the schedules "
            f"{', '.join(s.__name__ for s in SCHEDULES)} map to the frameworks' "
            f"optimizers, got {lr!r}"
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

    title = (
        f"training {'-'.join(map(str, net.sizes))} {net.activations} {loss_name} "
        f"{optimizer!r} {dtype.name}, {steps} steps"
    )
    steps_of = _Steps(X, np.asarray(Y), batch, steps)
    options = {"mirror": mirror, "convert": convert}  # each framework takes its own
    args = (net, steps_of, loss_name, optimizer, sources, w0, rtol, options)
    if single:
        return _run_one(oracle, title, *args)
    # the installed ones (ImportError when none is), a note for each skipped
    names, notes = frameworks.select(_wanted(oracle))
    names, slot_notes = training_frameworks(names)
    notes += slot_notes
    if not names:
        raise ImportError("no framework to train with; " + "; ".join(notes))
    reports = {name: _run_one(name, title, *args) for name in names}
    return _combined(title, reports, notes)


def _wanted(oracle) -> list[str]:
    """The names ``oracle`` (None or a sequence of names) asks for, checked as
    ``compare`` checks them; None: every framework with a training slot."""
    if oracle is None:
        return _with_slot(frameworks.names())
    return frameworks.wanted_names(oracle)


def _combined(title: str, reports: dict, notes: list) -> TrainingReport:
    """One TrainingReport from each framework's: per row name, refnet against every
    framework that has that row (``combine``); err/moved and bounds the largest."""
    labels = ", ".join(frameworks.label(name) for name in reports)
    out = TrainingReport(f"{title} vs {labels}", [], notes=list(notes))
    order = list(dict.fromkeys(r.name for rep in reports.values() for r in rep.rows))
    for row_name in order:
        by_oracle = {
            name: row
            for name, rep in reports.items()
            for row in rep.rows
            if row.name == row_name
        }
        out.rows.append(combine(row_name, by_oracle))
    for name, rep in reports.items():
        for key, value in rep.rel_moved.items():
            out.rel_moved[key] = max(out.rel_moved.get(key, 0.0), value)
        for key, value in rep.bounds.items():
            out.bounds[key] = max(out.bounds.get(key, 0.0), value)
        out.notes += [f"{frameworks.label(name)}: {note}" for note in rep.notes]
    return out


def _run_one(oracle: str, title: str, net, steps_of, *rest) -> TrainingReport:
    """compare_training against the one framework ``oracle``, in its worker."""
    report = TrainingReport(title + _training_slot(oracle).TITLE, [])
    loss_name, optimizer, sources, w0, rtol, options = rest
    try:  # in the framework's own worker process (crosscheck/frameworks/workers.py)
        return workers.call(
            oracle,
            "crosscheck.training:run_training",
            frameworks.slot_path(oracle, "training"),
            report,
            net,
            steps_of,
            loss_name,
            optimizer,
            sources,
            w0,
            rtol,
            options,
        )
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


def run_training(
    module: str, report, net, batches, loss_name, optimizer, sources, w0, rtol, options
) -> TrainingReport:
    """compare_training's steps in this process, by the framework's training slot
    ``module`` (what the worker runs)."""
    slot = importlib.import_module(module)
    return slot.run(
        report, net, batches, loss_name, optimizer, sources, w0, rtol, **options
    )


def _training_slot(oracle: str):
    """The training slot of framework ``oracle``; ValueError naming those that have one.
    (The slot module imports no framework: that happens in its worker.)"""
    slot = frameworks.slot(oracle, "training") if oracle in frameworks.names() else None
    if slot is None:
        raise ValueError(
            f"oracle: expected one of {_with_slot(frameworks.names())} "
            f"(the frameworks with a training slot), got {oracle!r}"
        )
    return slot


def _with_slot(names) -> list[str]:
    """The frameworks of ``names`` that have a training slot (installed or not)."""
    return [name for name in names if frameworks.slot(name, "training") is not None]


def training_frameworks(names) -> tuple[list[str], list[str]]:
    """(the frameworks of ``names`` that have a training slot, a one-line note for each
    that has none). A slot may name packages it needs beyond its framework (``NEEDS``,
    JAX's optax): where one is not installed the framework has no training rows."""
    have, notes = [], []
    for name in names:
        slot = frameworks.slot(name, "training")
        missing = [
            pkg
            for pkg in getattr(slot, "NEEDS", ())
            if importlib.util.find_spec(pkg) is None
        ]
        if slot is None:
            notes.append(
                f"{frameworks.label(name)}: no training rows (the framework has no "
                "training slot)"
            )
        elif missing:
            notes.append(
                f"{frameworks.label(name)}: no training rows ({', '.join(missing)} not "
                f"installed: pip install {' '.join(missing)})"
            )
        else:
            have.append(name)
    return have, notes


def training_cases(oracle: str = "tf") -> list[dict]:
    """The training cases against ``oracle``: optimizers x dtypes, a few steps each.

    Each case is a dict of ``compare_training``'s keyword arguments plus ``name``.
    The framework's training slot adjusts the list: ``ROW_SKIP`` names the optimizers it
    leaves out (Keras leaves out plain momentum and momentum under a schedule, which only
    torch's rescaled-momentum conversion needs) and ``ROW_RMSPROP`` RMSprop's options
    (torch: epsilon = 1e-30 on both sides, since its epsilon placement has no exact
    conversion, crosscheck/frameworks/torch/training.py).
    """
    slot = _training_slot(oracle)
    eps = slot.ROW_RMSPROP  # the framework's RMSprop options for these rows
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
        ("SGD InverseTimeDecay", lambda: ropt.SGD(ropt.InverseTimeDecay(0.2, 2, 1.0))),
        (
            "RMSprop InverseTimeDecay power staircase",
            lambda: ropt.RMSprop(ropt.InverseTimeDecay(0.01, 3, 0.5, True, 2.0), **eps),
        ),
        (
            "SGD nesterov OneCycle",
            lambda: ropt.SGD(ropt.OneCycle(0.2, 10), momentum=0.9, nesterov=True),
        ),
        (
            "Adam OneCycle linear three_phase",
            lambda: ropt.Adam(
                ropt.OneCycle(0.02, 10, 0.25, "linear", three_phase=True)
            ),
        ),
    ]
    optimizers = [o for o in optimizers if o[0] not in slot.ROW_SKIP]
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
            case["oracle"] = oracle
            cases.append(case)
    return cases


def training_matrix(
    oracles=("tf",),
) -> list[tuple[str, Callable[[], TrainingReport]]]:
    """The training rows of ``python -m crosscheck``: (label, callable returning a Report).

    For each framework in ``oracles`` that has a training slot, optimizers x dtypes from
    :func:`training_cases`, labelled with the oracle; each runs 10 steps of batch 8.
    (:func:`training_frameworks` says which have none.)
    """
    if isinstance(oracles, str):
        oracles = (oracles,)
    out = []
    for oracle in training_frameworks(oracles)[0]:
        for case in training_cases(oracle):
            case = dict(case)
            name = case.pop("name")
            out.append((name, functools.partial(compare_training, **case)))
    return out
