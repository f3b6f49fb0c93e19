"""The frameworks refnet is checked against: one folder per framework, the same slots in
each (as Keras 3's ``backend/<name>/``), and the registry.

    frameworks/
      __init__.py   this: the protocol, the registry, select/label/framework, quirk_rtol
      workers.py    each framework's calls run in its own worker process (serve.py)
      tf/           TensorFlow/Keras          (--oracle tf, the docs' *.tensorflow.md)
      torch/        PyTorch                   (--oracle torch, the docs' *.torch.md)
      jax/          JAX                       (--oracle jax, the docs' *.jax.md)

The slots of a framework folder. ``oracle.py`` is required; the others are optional, and
generic code asks :func:`slot` for them (None where a framework has none):

    oracle.py     the oracle protocol below, the framework's quirks (``quirk``) and
                  its pitfalls, in its docstring
    imports.py    the framework, imported on first use (never at import time)
    bridge.py     weights from refnet to the framework, and the activation table
    models.py     a user's model read back as a refnet network
    files.py      a saved model file, loaded with bounded memory and no code run
    losses.py     the one refnet-loss -> framework-loss mapping (oracle and training)
    training.py   optimizer steps against refnet's: ``run(report, net, batches,
                  loss_name, optimizer, sources, w0, rtol, **options)``, ``TITLE``,
                  ``ROW_SKIP`` and ``ROW_RMSPROP`` for the matrix's training rows.
                  Without it the training rows are skipped with a one-line note.

The oracle protocol (``oracle.py``):

    NAME              "tf", "torch": the name ``compare(oracle=...)`` and
                      ``crosscheck --oracle`` take
    LABEL             "TF", "torch": how report tables name it
    FRAMEWORK         "TensorFlow", "PyTorch": how sentences name it
    PACKAGE           optional, the module the framework imports as ("tensorflow",
                      "torch"; default NAME): :func:`installed` looks for it without
                      importing it or starting a worker
    available()       None when the framework imports, else a one-line reason
    describe()        the build found, in words: "TensorFlow 2.21.0 (CPU build)"
    build(net, l2)    the identical network in that framework (exact weights, net's
                      dtype; ``l2 > 0``: L2 weight decay l2 * sum(W^2) per layer, LS6;
                      a layer's dropout as the framework's Dropout after it)
    backprop(built, X, Y, loss, reduction, pins, masks=None)
                      forward and backward on X (n, n_0), already 2-D in net's dtype;
                      returns a dict of numpy arrays, 0-based lists like refnet's:
                      loss (float), output, z, a (without a[0]), delta, dW, db (None for
                      a layer without bias), dX (dL/dX, BP5), y (targets as rows), and
                      optionally model_output (the framework model's own call on X)
    quirk(activation) optional: (rtol floor, why) for a float64 network using it

``loss`` is a refnet loss name, ``reduction`` Keras' "sum_over_batch_size" or "sum" (LS5);
``pins`` is None or, per layer, None or (mask, values): z[l] takes ``values`` where
``mask`` holds, forward only (``z + stop_gradient(values - z)`` under the mask), so the
framework runs on refnet's side of a relu kink (see ``crosscheck.kinks.kink_entries``).
``masks`` (passed only when given) is dropout in training mode: per layer None or the
(n, n_l) mask refnet used; the oracle multiplies a[l] by it explicitly (BP6, BP7) and
its ``model_output`` runs the model's own layers with each Dropout layer replaced by
that multiplication; ``a`` stays f(z), before the mask, as refnet's ``res.a``. An
oracle whose backprop takes no ``masks`` is skipped for such a comparison, with a note
(:class:`NoMasks`).

The registry, :data:`ORACLES`, maps each name to its oracle module: the built-in ones,
then any installed package's entry point in the group ``crosscheck.frameworks``
(``name = "package.oracle"``). Adding a framework (as JAX was) is one folder here and one
line in ``_BUILTIN``, or a package of its own with that entry point; no generic module
changes.

Generic code reaches a framework only through this module and
:func:`crosscheck.frameworks.workers.call`, which runs it in that framework's own worker
process: two frameworks never share a process, so one's native library cannot crash the
other's (:data:`CONFLICTS`), and a crash becomes an error row.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
from collections.abc import Iterable
from types import ModuleType

import numpy as np

from ..messages import msg
from . import workers

# name -> oracle module, in the order reports show them.
_BUILTIN = {
    "tf": "crosscheck.frameworks.tf.oracle",
    "torch": "crosscheck.frameworks.torch.oracle",
    "jax": "crosscheck.frameworks.jax.oracle",
}
ENTRY_POINTS = "crosscheck.frameworks"  # the entry-point group of installed frameworks


def _registered() -> dict[str, str]:
    """The built-in frameworks, then those installed packages register."""
    found = dict(_BUILTIN)
    for entry in importlib.metadata.entry_points(group=ENTRY_POINTS):
        found.setdefault(entry.name, entry.value)
    return found


ORACLES = _registered()


# Frameworks known to crash each other in one process: (oracle names, the distribution
# that brings the crash, what happens). Shown by the CLI when installed together.
CONFLICTS = [
    (
        ("tf", "torch"),
        "triton",
        "(installed with PyPI's default CUDA build of torch, imported by torch.optim) "
        "segfaults in a process where TensorFlow is loaded",
    ),
]


def names() -> list[str]:
    """Every oracle's name, installed or not."""
    return list(ORACLES)


def installed() -> list[str]:
    """The oracles whose framework is installed, judged cheaply (its package is found,
    nothing imported, no worker started); :func:`select` is the real test."""
    return [
        name
        for name in names()
        if importlib.util.find_spec(getattr(get(name), "PACKAGE", name)) is not None
    ]


def get(name: str) -> ModuleType:
    """The oracle module called ``name``; ValueError listing the names otherwise."""
    if name not in ORACLES:
        raise ValueError(f"oracle: expected one of {names()}, got {name!r}")
    return importlib.import_module(ORACLES[name])


def label(name: str) -> str:
    """How reports name an oracle ("TF", "torch"); "refnet" for refnet."""
    return "refnet" if name == "refnet" else get(name).LABEL


def framework(names) -> str:
    """The frameworks of oracle names in words: "TensorFlow", "TensorFlow and PyTorch",
    "TensorFlow, PyTorch and JAX"."""
    words = [get(name).FRAMEWORK for name in names]
    # in the current language (crosscheck.messages): "TensorFlow、PyTorch 和 JAX" in Chinese
    last = msg("list.and")
    if len(words) < 3:
        return last.join(words)
    return msg("list.comma").join(words[:-1]) + last + words[-1]


def wanted_names(oracle=None) -> list[str]:
    """The oracle names ``oracle`` asks for (None: every one), each once, checked
    without starting anything: TypeError for neither None, a str nor a sequence of
    str; ValueError for an unknown name or an empty selection."""
    if oracle is None:
        return names()
    wanted = [oracle] if isinstance(oracle, str) else oracle
    if not isinstance(wanted, (list, tuple)) or not all(
        isinstance(n, str) for n in wanted
    ):
        raise TypeError(
            f"oracle: expected None, a name or a tuple of names from {names()}, "
            f"got {oracle!r}"
        )
    if not wanted:
        raise ValueError(f"oracle: expected at least one of {names()}, got none")
    for name in wanted:
        get(name)  # ValueError naming the valid ones
    return list(dict.fromkeys(wanted))


def select(oracle=None) -> tuple[list[str], list[str]]:
    """(oracle names to use, one-line notes on the skipped ones) for ``oracle``.

    ``None``: every oracle; a name or a sequence of names: those. An oracle whose
    framework is not installed is skipped with a one-line note.

    Raises
    ------
    ValueError
        An unknown name or an empty selection.
    TypeError
        Neither None, a str nor a sequence of str.
    ImportError
        None of the chosen frameworks is installed (nothing to compare with).
    """
    wanted = wanted_names(oracle)
    chosen, notes = [], []
    workers.start(wanted)  # their imports run side by side
    for name in wanted:
        try:
            reason = _call(name, "available")
            if reason is None:
                workers.remember_build(name, _call(name, "describe"))
        except workers.WorkerCrashed:  # not a missing framework: its rows say CRASH
            reason = None
        if reason is None:
            chosen.append(name)
        else:
            notes.append(f"{label(name)} oracle skipped: {reason}")
    if not chosen:
        raise ImportError("no oracle to compare with; " + "; ".join(notes))
    return chosen, notes


def quirk_rtol(
    dtype, activation_names: Iterable[str], oracle: str = "tf"
) -> tuple[float, list[str]]:
    """The rtol floor for a network with these activations against ``oracle``, and the
    quirks' notes (only quirks with a floor), from the oracle's ``quirk(activation)``.

    Only float64 networks are affected (in float32 the quirks are below rounding).
    """
    if np.dtype(dtype) != np.float64:
        return 0.0, []
    quirk = getattr(get(oracle), "quirk", None)  # an oracle may have none
    floor, notes = 0.0, []
    for name in dict.fromkeys(activation_names):  # each activation once, in order
        rtol, note = quirk(name) if quirk else (0.0, "")
        if rtol > 0:
            floor = max(floor, rtol)
            notes.append(f"{name}: rtol {rtol:g} because {note}")
    return floor, notes


def slot_path(name: str, slot: str) -> str:
    """The import path of framework ``name``'s ``slot`` module ("training", "bridge",
    ...): a sibling of its oracle module."""
    return ORACLES[name].rpartition(".")[0] + "." + slot


def slot(name: str, slot: str) -> ModuleType | None:
    """Framework ``name``'s ``slot`` module, or None where the framework has none. Slot
    modules import their framework on first use, not at import."""
    if "." not in ORACLES[name]:  # a top-level oracle module: no package, no slots
        return None
    path = slot_path(name, slot)
    return importlib.import_module(path) if importlib.util.find_spec(path) else None


def check_transfer(got, want, where: str) -> None:
    """RuntimeError unless a weight copied into a framework is ``want`` exactly, dtype
    included: the bridges' guarantee, kept under ``python -O`` (not an assert)."""
    got = np.asarray(got)
    if got.dtype != want.dtype or not np.array_equal(got, want, equal_nan=True):
        raise RuntimeError(
            f"{where}: changed in transfer (got dtype {got.dtype.name}, expected "
            f"{want.dtype.name} and the same values); please report it"
        )


def _call(name: str, function: str, *args):
    """Oracle ``name``'s module-level ``function(*args)``, in its worker process."""
    return workers.call(
        name, "crosscheck.frameworks:in_module", ORACLES[name], function, *args
    )


def in_module(module: str, function: str, *args):
    """``module.function(*args)``: what a worker runs for :func:`_call`; an oracle
    without ``describe`` is described by its FRAMEWORK."""
    mod = importlib.import_module(module)
    if function == "describe" and not hasattr(mod, "describe"):
        return mod.FRAMEWORK
    return getattr(mod, function)(*args)


def describe(names) -> list[str]:
    """The build of each oracle's framework, found in its worker ("TensorFlow 2.21.0
    (CPU build)"), then one line per known conflict among them and what is done about it."""
    lines = []
    for name in names:
        try:
            lines.append(_call(name, "describe"))
        except workers.WorkerCrashed as err:  # the run goes on: its rows say CRASH
            lines.append(str(err))
    for pair, dist, what in CONFLICTS:
        if not set(pair) <= set(names):
            continue
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
        if workers.mode() == "process":
            done = (
                "each framework runs in its own worker process, so the two never meet"
            )
        else:
            done = (
                f"{workers.ENV}=inline puts them in one process: expect a crash "
                "(unset it to give each framework its own process)"
            )
        lines.append(f"known conflict: {dist} {version} {what}; {done}")
    return lines


def backprop(
    name: str, net, l2, X, Y, loss: str, reduction: str, pins=None, masks=None
) -> dict:
    """Oracle ``name``'s build(net, l2) then backprop(...), in its worker process
    (``masks``: dropout masks, passed on only when given).

    ``net`` crosses as a plain refnet.Network with the same layers and input shape
    (its class, maybe a user's subclass, stays here). Raises ``workers.WorkerCrashed``
    when the worker dies."""
    import refnet

    plain = refnet.Network(net.layers, input_shape=getattr(net, "input_shape", None))
    return workers.call(
        name,
        "crosscheck.frameworks:run_backprop",
        ORACLES[name],
        plain,
        l2,
        X,
        Y,
        loss,
        reduction,
        pins,
        masks,
    )


class NoMasks(NotImplementedError):
    """An oracle's backprop takes no ``masks``: it cannot check dropout in training."""


def run_backprop(
    module: str, net, l2, X, Y, loss: str, reduction: str, pins=None, masks=None
):
    """build then backprop of the oracle ``module`` in this process (what the worker
    runs for :func:`backprop`); ``masks`` reaches an oracle only when given, so one
    without dropout support still answers every other call."""
    mod = importlib.import_module(module)
    extra = {} if masks is None else {"masks": masks}
    if extra and not _takes_masks(mod.backprop):
        raise NoMasks(
            f"{getattr(mod, 'LABEL', module)} oracle skipped for dropout: its backprop "
            "takes no masks argument"
        )
    return mod.backprop(mod.build(net, l2), X, Y, loss, reduction, pins, **extra)


def _takes_masks(fn) -> bool:
    """Does an oracle's backprop accept ``masks=`` (by name or as **kwargs)?"""
    params = inspect.signature(fn).parameters.values()
    return any(p.name == "masks" or p.kind is p.VAR_KEYWORD for p in params)
