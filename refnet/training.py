"""The training loop behind ``Network.fit``: mini-batch steps, and what makes them safe.

One step is backprop on a batch (``Network.backprop_into``, FP1-BP4) and one optimizer
update (GD1, OPT1-OPT3). Around that, three promises:

- **Fast.** X and Y are validated once; each batch runs unchecked in buffers reused from
  batch to batch (docs/09-speed.md).
- **Never a silently broken model.** A step whose loss is NaN or inf stops training with
  :class:`Diverged`, a ValueError naming ``learning_rate``, the epoch and the step, and
  the network and optimizer are put back to the last good step: the last state whose
  loss was finite. They are not copied every step (that would cost a pass over every
  weight and slot); the state at the start of each epoch is kept and the epoch's steps
  are replayed up to the last good one, bit for bit (same batches, same buffers, each
  step on the BLAS thread count it first ran with). At the end, the weights are
  checked once.
- **Interrupts land on a step boundary.** While fit runs in the main thread, a first
  Ctrl-C is held until the current step (backprop and the whole update) is done; then
  ``KeyboardInterrupt`` is raised with the finished epochs' history attached. A second
  Ctrl-C stops at once.

Both exceptions carry ``.history`` (the finished epochs, as fit would have returned them).

The BLAS thread count is chosen by timing the steps (``refnet.threads``: each step is
timed, and the tuner sets the count of the next); ``history.threads`` shows the probes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import sys
import threading
import warnings

import numpy as np

from . import dropout as _dropout
from . import losses
from . import optimizers as _optimizers
from . import threads as _threads
from .files import check_memory
from .validation import check_l2, check_size, rng_from

CLASSIFICATION = (
    "softmax_cross_entropy",
    "categorical_cross_entropy",
    "binary_cross_entropy",
    "kl_divergence",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
)
# Losses scored per output by the sign of a (y > 0.5 binary, y > 0 for -1/+1 or 0/1
# labels); the others by the argmax of each row.
_PER_OUTPUT = {"binary_cross_entropy": 0.5, "hinge": 0.0, "squared_hinge": 0.0}
# Output activations whose values are never negative: a hinge's -1 label is never met.
_NON_NEGATIVE = {"relu", "sigmoid", "softplus", "softmax"}


class Diverged(ValueError):
    """Training reached a non-finite loss; the net is back at the last good step.

    Attributes: ``history`` (finished epochs), ``epoch`` and ``step`` (1-based, where the
    loss was first NaN or inf), ``restored_step`` (the step whose weights the net holds
    now, 0 for the weights fit started from).
    """


class History(dict):
    """fit's return value: {metric: [one value per epoch]}, as Keras' ``History.history``.

    ``threads`` (an attribute, not a key) says which BLAS thread counts training ran on
    and why: ``{"policy": "auto", "candidates": [1, 2], "probes": [{"step": 7,
    "reason": "start", "seconds_per_step": {1: ..., 2: ...}, "threads": 2}, ...],
    "steps": {2: 120, 1: 6}}`` (``refnet.threads``; an int or "all" policy has no
    probes).
    """

    threads: dict


class SetupWarning(UserWarning):
    """A network and loss that train without an error, but badly (see classic_mistakes)."""


def classic_mistakes(
    activations: list[str], loss_name: str, outputs: int | None = None
) -> list[str]:
    """Set-ups that train without an error but badly, each with its fix.

    ``outputs`` (k, the output layer's width) makes the double-squash warning quote its
    bound: softmax of values confined to an interval of width w (sigmoid 1, tanh 2)
    gives no class more than e^w / (e^w + k - 1).
    """
    out_act = activations[-1]
    found = []
    if loss_name == "softmax_cross_entropy" and out_act == "softmax":
        found.append(
            "softmax output with softmax_cross_entropy (which applies softmax itself): "
            "softmax is applied twice; use a linear output"
        )
    if loss_name == "softmax_cross_entropy" and out_act in ("sigmoid", "tanh"):
        found.append(_double_squash(out_act, outputs))
    if loss_name == "categorical_cross_entropy" and out_act != "softmax":
        found.append(
            f"categorical_cross_entropy expects probabilities (a softmax output), the "
            f"output layer is {out_act}; use softmax, or softmax_cross_entropy on a linear output"
        )
    if loss_name == "binary_cross_entropy" and out_act != "linear":
        found.append(
            f"binary_cross_entropy takes logits (a linear output), the output layer is {out_act}"
        )
    if loss_name == "kl_divergence" and out_act != "softmax":
        found.append(
            f"kl_divergence compares probability rows (a softmax output), the output "
            f"layer is {out_act}: a is clipped to [{losses.CLIP_EPSILON:g}, 1] and not "
            "renormalised; use softmax"
        )
    if loss_name in ("hinge", "squared_hinge") and out_act in _NON_NEGATIVE:
        found.append(
            f"{loss_name} scores the sign of a (a linear or tanh output), the output "
            f"layer is {out_act}, never negative: no -1 label can reach its margin"
        )
    if loss_name == "categorical_hinge" and out_act in ("softmax", "sigmoid"):
        found.append(
            f"categorical_hinge wants a margin of 1 between scores, the output layer is "
            f"{out_act} (values in [0, 1]): only a saturated output reaches it; use linear"
        )
    if (out_act == "relu" and loss_name == "softmax_cross_entropy") or (
        out_act in {"relu", "sigmoid", "tanh"}
        and loss_name == "categorical_cross_entropy"
    ):
        found.append(
            f"the output layer is {out_act} (one activation name applies to every layer, "
            "the output included); for classification end in linear, e.g. "
            "activations relu,linear"
        )
    return found


def _double_squash(out_act: str, outputs: int | None) -> str:
    """The warning for a sigmoid or tanh output under softmax_cross_entropy: tutorial 1's
    784-256-128-64-10 model ends in Dense(10, sigmoid) and then takes tf.nn.softmax."""
    width = {"sigmoid": 1, "tanh": 2}[out_act]
    bound = ""
    if outputs is not None and outputs > 1:
        p = math.exp(width) / (math.exp(width) + outputs - 1)
        bound = (
            f" (p <= {p:.3f} for {outputs} classes, so the loss never falls below "
            f"{-math.log(p):.3f})"
        )
    return (
        f"the output layer is {out_act} and softmax_cross_entropy applies softmax to it: "
        f"a double squash, softmax of values confined to an interval of width {width}, "
        f"so no class gets a probability above e^{width} / (e^{width} + k - 1){bound}; "
        "end in linear, e.g. activations relu,linear (one activation name applies to "
        "every layer, the output included)"
    )


def fit(
    net,
    X,
    Y,
    loss,
    optimizer,
    epochs=1,
    batch_size=32,
    seed=None,
    validation_data=None,
    progress=True,
    shuffle=True,
    l2=0.0,
    threads=None,
) -> dict[str, list[float]]:
    """``Network.fit``'s loop (its docstring has the parameters).

    Phases: the arguments are checked once, then each epoch is :func:`_run_epoch` (the
    steps) followed by its history entries and the validation scores."""
    loss = losses.get(loss)
    l2 = check_l2(l2)
    optimizer = _optimizers.get(optimizer)
    epochs = check_size(epochs, "epochs")
    batch_size = check_size(batch_size, "batch_size")
    X, Y, y_all = net.check_data(X, Y, loss, prepared=True)
    validation = _check_validation_data(net, validation_data, loss)
    rng = rng_from(seed)
    _check_training_memory(net, optimizer, min(batch_size, X.shape[0]))
    for mistake in classic_mistakes(net.activations, loss.name, net.sizes[-1]):
        warnings.warn(mistake, SetupWarning, stacklevel=3)

    n = X.shape[0]
    # per row: the class (or, binary, y > 0.5 per output), scored after the epoch
    score = _Accuracy(Y, loss.name) if loss.name in CLASSIFICATION else None
    history = History(loss=[])
    if score is not None:
        history["accuracy"] = []
    show = bool(progress) and sys.stderr.isatty()
    steps = _Steps(net, X, Y, y_all, loss, optimizer, l2, batch_size)
    # training mode: fresh dropout masks per step
    if any(layer.dropout for layer in net.layers):
        net.dropout_masks(1, 0)  # (refuses a rate set on the output layer since)
        steps.dropout_seed = int(rng.integers(2**63))
    # (state at the start of the previous epoch, its order, its steps' thread counts)
    kept = None
    # Overflow is not warned about step by step: a non-finite loss is Diverged, below.
    with (
        _threads.tuned(
            threads, (tuple(net.sizes), net.dtype.name, batch_size)
        ) as tuner,
        _held_interrupt() as interrupted,
        np.errstate(over="ignore", invalid="ignore"),
    ):
        steps.tuner = tuner
        history.threads = tuner.info
        for epoch in range(epochs):
            order = rng.permutation(n) if shuffle else None
            start_state = steps.snapshot()
            bar = _progress_bar(
                show, -(-n // batch_size), f"epoch {epoch + 1}/{epochs}"
            )
            epoch_run = _EpochRun(epoch, order, start_state, kept, history, bar, [])
            logs, k = _run_epoch(steps, score, epoch_run, interrupted)
            for key, value in logs.items():
                history[key].append(value)
            if validation is not None:
                for key, value in net.evaluate(*validation, loss, l2).items():
                    history.setdefault(f"val_{key}", []).append(value)
                    logs[f"val_{key}"] = value
            if bar is not None:
                bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
                bar.close()
            kept = (start_state, order, epoch_run.counts)
            if interrupted():
                raise _interrupt(epoch, k, history)
        start = (n - 1) // batch_size * batch_size  # the last batch: [start, n)
        if not steps.finite_after(order, start, n):  # the last update overflowed
            raise steps.diverged(epochs - 1, None, kept, None, history, math.nan)
    return history


def _check_validation_data(net, validation_data, loss):
    """(X_val, Y_val) checked as fit's X and Y are, named as such; None stays None."""
    if validation_data is None:
        return None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ValueError(
            "validation_data: expected a pair (X_val, Y_val), "
            f"got {type(validation_data).__name__}"
        )
    return net.check_data(*validation_data, loss, "X_val", "Y_val")


@dataclasses.dataclass
class _EpochRun:
    """What one epoch's steps need besides the steps: where they are, for the errors."""

    epoch: int  # 0-based
    order: np.ndarray | None  # the rows' order (None: as given)
    start_state: tuple  # _Steps.snapshot() at the epoch's start
    kept: tuple | None  # (start state, order, thread counts) of the previous epoch
    history: dict  # the finished epochs
    bar: object  # a tqdm bar or None
    counts: list  # the BLAS thread count of each step so far (for a replay)


def _run_epoch(steps, score, run: _EpochRun, interrupted) -> tuple[dict, int]:
    """One pass over the batches: each step is backprop then update (GD1, OPT1-OPT3).

    Returns the epoch's logs (``loss`` averaged with batch-size weights, as Keras
    reports it; ``accuracy``) and the index of its last step. A non-finite loss raises
    :class:`Diverged` (the net put back first), a held Ctrl-C ``KeyboardInterrupt``
    after the step it arrived in (at the epoch's end: after its history, by ``fit``).
    """
    n, batch_size, bar = steps.X.shape[0], steps.batch_size, run.bar
    tuner, clock, counts = steps.tuner, _threads.clock, run.counts
    total = 0.0
    for k, start in enumerate(range(0, n, batch_size)):
        stop = min(start + batch_size, n)
        counts.append(tuner.current)
        t0 = clock()
        res = steps.backprop(run.order, start, stop, run.epoch)
        if not math.isfinite(res.loss):
            if bar is not None:
                bar.close()
            raise steps.diverged(
                run.epoch,
                k,
                (run.start_state, run.order, counts),
                run.kept,
                run.history,
                res.loss,
            )
        steps.update(res)
        tuner.record(t0, clock())  # sets the next step's thread count
        total += res.loss * (stop - start)
        if score is not None:  # the prediction of each row, scored after the epoch
            score.record(res.a[-1], start, stop)
        if bar is not None:
            logs = {"loss": total / stop}
            if score is not None:
                logs["accuracy"] = score.fraction(run.order, stop)
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
            bar.update()
        if interrupted() and stop < n:  # (at an epoch's end: after its history)
            if bar is not None:
                bar.close()
            raise _interrupt(run.epoch, k, run.history)
    logs = {"loss": total / n}
    if score is not None:
        logs["accuracy"] = score.fraction(run.order)
    return logs, k


def accuracy(a, Y, loss_name: str) -> float:
    """Fraction correct: argmax(a) against the class (ids or rows), or for
    binary_cross_entropy the logit sign (a > 0) against y > 0.5, and for hinge and
    squared_hinge the score's sign against y > 0, over all entries.

    The one accuracy of refnet: ``fit``'s per epoch and ``Network.evaluate``'s."""
    score = _Accuracy(Y, loss_name)
    score.record(a, 0, len(a))
    return float(score.fraction(None))


class _Accuracy:
    """Predictions recorded batch by batch into one array, scored against the labels."""

    def __init__(self, Y, loss_name: str):
        self.loss_name = loss_name
        self.labels = _labels(Y, loss_name)
        n = self.labels.shape[0]
        self.predicted = np.empty((n, *self.labels.shape[1:]), self.labels.dtype)

    def record(self, a, start: int, stop: int) -> None:
        """Rows start:stop of the epoch's order were predicted from output ``a``."""
        _predict_into(a, self.loss_name, self.predicted[start:stop])

    def fraction(self, order, stop: int | None = None) -> float:
        """Fraction correct among the first ``stop`` rows predicted (all by default)."""
        return _hits(self.predicted[:stop], self.labels, order)


class _Steps:
    """The step (backprop, update) on fit's reused buffers, and replay for a restore."""

    def __init__(self, net, X, Y, y_all, loss, optimizer, l2, batch_size):
        self.net, self.X, self.Y, self.y_all = net, X, Y, y_all
        self.loss, self.optimizer, self.l2 = loss, optimizer, l2
        self.batch_size = batch_size
        # dropout masks of step k of epoch e come from default_rng([seed, e, k]):
        # the same on a replay (None: the net has no dropout)
        self.dropout_seed: int | None = None
        self.own_backprop = net.uses_builtin_backprop()
        self.weights = net.weight_arrays()  # updated in place by the optimizer
        optimizer.bind(net)  # its state belongs to this network only (W8)
        optimizer.build(self.weights)
        self.batches: dict[int, _Batch] = {}
        self.tuner = _threads.Tuner("all", None)  # fit sets the real one

    def masks(self, batch, epoch: int, start: int) -> list | None:
        """The dropout masks of the step at ``start`` of ``epoch`` (BP6), drawn into
        the batch's buffers (only for a net with dropout: ``dropout_seed`` is set)."""
        rng = np.random.default_rng(
            [self.dropout_seed, epoch, start // self.batch_size]
        )
        net = self.net
        batch.masks = _dropout.draw(net.layers, batch.m, rng, net.dtype, batch.masks)
        return batch.masks

    def backprop(self, order, start: int, stop: int, epoch: int):
        net, m = self.net, stop - start
        if m not in self.batches:
            self.batches[m] = _Batch(net, m, self.X.shape[1], self.y_all.shape[1])
        batch = self.batches[m]
        if order is None:
            rows = slice(start, stop)
            xb, yb = self.X[rows], self.y_all[rows]
        else:
            # X[rows] gathered into reused arrays. The rows come from a permutation, so
            # they are in range: mode="clip" only spares take's default mode="raise"
            # its extra buffered copy of the result (NumPy's take docs), 10-20 us a step
            # for a 128-row MNIST batch
            rows = order[start:stop]
            xb = self.X.take(rows, axis=0, out=batch.X, mode="clip")
            yb = self.y_all.take(rows, axis=0, out=batch.y, mode="clip")
        masks = None if self.dropout_seed is None else self.masks(batch, epoch, start)
        if self.own_backprop:
            return net.backprop_into(
                xb, yb, self.loss, batch.res, batch.work, self.l2, masks
            )
        # a subclass' own gradients (crosscheck's premise) is trained, given only the
        # arguments it needs (an override may lack l2 or masks)
        extra = {} if masks is None else {"masks": masks}
        if self.l2:
            return net.gradients(xb, self.Y[rows], self.loss, self.l2, **extra)
        return net.gradients(xb, self.Y[rows], self.loss, **extra)

    def update(self, res) -> None:
        if self.own_backprop:
            self.optimizer.update_all(self.weights, res.grads())  # GD1, OPT1-OPT3
        else:  # apply's full checks on a subclass' result
            self.optimizer.apply(self.net, res)

    def snapshot(self):
        """The weights, the optimizer's slots and step count (kept once per epoch)."""
        opt = self.optimizer
        return (
            [w.copy() for w in self.weights],
            {k: [s.copy() for s in v] for k, v in opt.state.items()},
            opt.iterations,
        )

    def restore(self, state) -> None:
        weights, slots, iterations = state
        for w, saved in zip(self.weights, weights):
            np.copyto(w, saved)
        for key, saved in slots.items():
            for s, v in zip(self.optimizer.state[key], saved):
                np.copyto(s, v)
        self.optimizer.iterations = iterations

    def replay(self, epoch_state, n_steps: int, epoch: int) -> None:
        """Restore an epoch's start and take its first ``n_steps`` steps again, each on
        the BLAS thread count it ran with (``epoch_state``: start state, order, counts)."""
        state, order, counts = epoch_state
        self.restore(state)
        n = self.X.shape[0]
        for k, start in enumerate(list(range(0, n, self.batch_size))[:n_steps]):
            if counts[k] is not None:
                self.tuner.apply(counts[k])
            stop = min(start + self.batch_size, n)
            self.update(self.backprop(order, start, stop, epoch))

    def finite_after(self, order, start: int, stop: int) -> bool:
        """Once, after the last update: are the weights finite, and is the output on the
        last batch? (A sum is NaN or inf when any entry is, or when weights reach ~1e308,
        divergence too; no temporary array.)"""
        if not all(math.isfinite(np.add.reduce(w, axis=None)) for w in self.weights):
            return False
        rows = slice(start, stop) if order is None else order[start:stop]
        with np.errstate(all="ignore"):
            return bool(np.isfinite(self.net.forward(self.X[rows])).all())

    def diverged(self, epoch, k, current, kept, history, value) -> Diverged:
        """Put the net back at the last step whose loss was finite; the error to raise.

        The loss of step k was not finite, so the update of step k - 1 broke the
        weights: the last good state is the one before it (the epoch's first k - 1 steps
        replayed). At an epoch's first step that update was the previous epoch's last.
        ``k`` None: the very last update (of the last epoch, ``current``) broke them.
        ``current`` and ``kept``: (start state, order, thread counts) of this epoch and
        of the previous one.
        """
        n_steps = -(-self.X.shape[0] // self.batch_size)
        per_epoch_step = (epoch * n_steps) + (n_steps if k is None else k)  # steps done
        if k is None:
            self.replay(current, n_steps - 1, epoch)
        elif k > 0:
            self.replay(current, k - 1, epoch)
        elif kept is not None:
            self.replay(kept, n_steps - 1, epoch - 1)
        else:  # the first step of fit: the weights it was given
            self.restore(current[0])
        lr = self.optimizer.learning_rate
        lr_text = f"{lr:g}" if isinstance(lr, (int, float)) else "the schedule's rate"
        where = "after its last step" if k is None else f"step {k + 1}"
        restored = max(per_epoch_step - 1, 0)
        err = Diverged(
            f"learning_rate: training diverged at epoch {epoch + 1}, {where} (loss "
            f"{value}); the weights and the optimizer are back at step {restored} of fit, "
            f"the last with a finite loss. Try a learning_rate smaller than {lr_text}"
        )
        err.history, err.epoch = history, epoch + 1
        err.step = None if k is None else k + 1
        err.restored_step = restored
        return err


def _interrupt(epoch: int, k: int, history: dict) -> KeyboardInterrupt:
    err = KeyboardInterrupt(
        f"fit interrupted at epoch {epoch + 1}, after step {k + 1}: the weights are those "
        "of that step; .history holds the finished epochs"
    )
    err.history = history
    return err


def _check_training_memory(net, optimizer, batch: int) -> None:
    """Weights' slots, gradients and two scratch arrays per weight, plus one batch's
    z, a, delta and f' arrays: refused beyond the free memory."""
    itemsize = net.dtype.itemsize
    params = net.count_params() * itemsize * (len(optimizer.slots()) + 3)
    widths = sum(net.sizes)
    buffers = batch * widths * itemsize * 4
    check_memory(
        params + buffers,
        f"training {'-'.join(map(str, net.sizes))} with {type(optimizer).__name__} "
        f"(optimizer state, gradients, batch buffers)",
        "optimizer",
    )


@contextlib.contextmanager
def _held_interrupt():
    """Hold a first SIGINT until the step ends (yields: was one received?)."""
    received: list[bool] = []
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield lambda: False  # not ours to change: interrupts behave as usual
        return

    def hold(signum, frame):
        if received:  # a second Ctrl-C: the user insists
            raise KeyboardInterrupt
        received.append(True)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield lambda: bool(received)
    finally:
        signal.signal(signal.SIGINT, previous)


class _Batch:
    """fit's buffers for batches of m rows: the gathered X and y, the result, f' scratch."""

    def __init__(self, net, m: int, n_in: int, n_out: int):
        self.X = np.empty((m, n_in), net.dtype)
        self.y = np.empty((m, n_out), net.dtype)
        self.m = m
        self.res = net.result_buffers(m)
        self.work = net.work_buffers(m)
        self.masks = None  # dropout masks, made on the first step that needs them


def _labels(Y, loss_name: str):
    """What a prediction is scored against: class ids, or per output y > 0.5 (binary
    targets) or y > 0 (hinge labels, -1/+1 or 0/1)."""
    Y = np.asarray(Y)
    if loss_name in _PER_OUTPUT:
        return Y.reshape(Y.shape[0], -1) > _PER_OUTPUT[loss_name]
    return Y.astype(np.intp) if Y.ndim == 1 else Y.argmax(axis=1)


def _predict_into(a, loss_name: str, out) -> None:
    """The predicted class (argmax) of each row of a, or a > 0 per output for the
    binary cross-entropy (logits) and the hinges (scores)."""
    if loss_name in _PER_OUTPUT:
        np.greater(a, 0, out=out)
    else:
        a.argmax(axis=1, out=out)


def _hits(predicted, labels, order) -> float:
    """Fraction of correct predictions; predicted[i] is row order[i]'s (row i's if None)."""
    truth = (
        labels[: len(predicted)] if order is None else labels[order[: len(predicted)]]
    )
    return np.count_nonzero(predicted == truth) / predicted.size


def _progress_bar(show: bool, total: int, desc: str):
    """A tqdm bar on stderr, or None when not shown or tqdm is not installed."""
    if not show:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="batch", file=sys.stderr, leave=True)
