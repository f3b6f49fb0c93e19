"""Optimizers: turn one backward pass into one weight update, as Keras 3 does.

One step is ``opt.apply(net, res)`` with ``res = net.gradients(X, Y, loss)``: every weight
w in [W1, b1, W2, b2, ...] is updated in place from its gradient g = dL/dw. The plain step

    w' = w - lr g                                                              (GD1)

is SGD without momentum. Argument names, defaults and update equations are Keras 3's
(``keras/src/optimizers/{sgd,rmsprop,adam}.py``), so N steps in refnet and in Keras end on
the same weights (``crosscheck.training`` proves it, step by step).

State is inspectable: ``opt.iterations`` counts the steps taken, ``opt.state`` maps each
slot name (``"momentum"``, ``"velocity"``, ...) to one array per weight, in the order of
``Network.get_weights()``. Slots are created as zeros on the first ``apply``.

One optimizer, one network. The first ``apply`` (or ``fit``) binds the optimizer to that
network; stepping a different network with it is a ValueError, even one of the same
shapes, because the second network would start from the first one's moments and step
count t (Keras refuses too: an optimizer updates only the variables it was built for). A
network holding exactly the weights the optimizer last updated is the same network
continued (a copy, or a saved and loaded one) and takes over the state. A copy of the
optimizer (``copy.deepcopy``, pickle) is unbound and binds on its first step.

Precision. The update runs in the network's dtype (float32 weights are updated in float32,
no upcasts); scalar coefficients such as lr sqrt(1 - beta_2^t) / (1 - beta_1^t) are formed
from the exact Python-float hyper-parameters and rounded once to that dtype. Keras instead
keeps ``learning_rate`` in a float32 variable and casts some Python floats through float32
(SGD's momentum, Adam's betas inside the bias-correction powers) even for float64 weights.
refnet does not copy that rounding; the comparison in ``crosscheck.training`` mirrors it.

The learning rate is a positive float or a schedule: any callable step -> rate, evaluated
at ``opt.iterations`` (0 for the first step, as Keras). Three are built in (LR1-LR3):
:class:`ExponentialDecay` and :class:`InverseTimeDecay` (Keras' schedules of those
names; InverseTimeDecay adds a ``power``) and :class:`OneCycle` (PyTorch's
``OneCycleLR`` learning rates; Keras has none). Schedules are plain objects of their
arguments: they copy and pickle with the optimizer.
"""

from __future__ import annotations

import math
import numbers
import weakref
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from .validation import as_array, check_bool, check_float, check_size

Array = NDArray[np.floating]


# ---------------------------------------------------------------------------------
# Learning-rate schedules
# ---------------------------------------------------------------------------------


class ExponentialDecay:
    """lr(step) = initial_learning_rate * decay_rate ^ (step / decay_steps) (LR1).

    With ``staircase=True`` the exponent is floor(step / decay_steps), so the rate drops
    once every ``decay_steps`` steps. Keras 3's ``keras.optimizers.schedules.ExponentialDecay``
    with the same arguments (which computes in float32; refnet in float64).

    >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
    0.025
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ):
        self.initial_learning_rate = _check_positive(
            initial_learning_rate, "initial_learning_rate"
        )
        self.decay_steps = _check_decay_steps(decay_steps)
        self.decay_rate = _check_positive(decay_rate, "decay_rate")
        self.staircase = check_bool(staircase, "staircase")

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def __repr__(self) -> str:
        return (
            f"ExponentialDecay({self.initial_learning_rate}, decay_steps={self.decay_steps}, "
            f"decay_rate={self.decay_rate}, staircase={self.staircase})"
        )


class InverseTimeDecay:
    """lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps) ^ power (LR2).

    Power scheduling: the rate falls like 1 / step^power once step >> decay_steps /
    decay_rate, slower than ExponentialDecay's geometric fall. With ``power=1`` (the
    default) this is Keras 3's ``keras.optimizers.schedules.InverseTimeDecay`` with the
    same arguments, computed in the same order (p = step / decay_steps, floored when
    ``staircase``; lr / (1 + decay_rate p)), in float64 where Keras computes in float32.
    The usual textbook form eta_0 / (1 + t / s)^c is ``decay_rate=1, decay_steps=s,
    power=c``; Keras has no ``power`` (c = 1 only), so c != 1 is checked against the
    formula and against torch's ``LambdaLR`` (docs/08-training.md).

    Parameters
    ----------
    initial_learning_rate : float > 0
        The rate at step 0.
    decay_steps : number > 0
        The step scale T: at step T the denominator's base is 1 + decay_rate.
    decay_rate : float >= 0
        r; 0 keeps the rate constant.
    staircase : bool, default False
        Floor step / decay_steps: the rate changes once every ``decay_steps`` steps.
    power : float > 0, default 1.0
        The exponent c of the denominator.

    >>> InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)(30)
    0.025
    >>> InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0, power=2.0)(10)
    0.025
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        power: float = 1.0,
    ):
        self.initial_learning_rate = _check_positive(
            initial_learning_rate, "initial_learning_rate"
        )
        self.decay_steps = _check_decay_steps(decay_steps)
        self.decay_rate = check_float(decay_rate, "decay_rate", minimum=0)
        self.staircase = check_bool(staircase, "staircase")
        self.power = _check_positive(power, "power")

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p) ** self.power

    def __repr__(self) -> str:
        power = "" if self.power == 1 else f", power={self.power}"
        return (
            f"InverseTimeDecay({self.initial_learning_rate}, decay_steps="
            f"{self.decay_steps}, decay_rate={self.decay_rate}, staircase="
            f"{self.staircase}{power})"
        )


class OneCycle:
    """The 1cycle schedule: up from max / div_factor to max, then down to far below (LR3).

    Two phases (Smith and Topin's 1cycle as fastai and PyTorch run it), with
    eta_0 = max_learning_rate / div_factor, eta_min = eta_0 / final_div_factor and
    t_1 = pct_start * total_steps - 1:

        0 <= t <= t_1:            anneal(eta_0, max_learning_rate, t / t_1)
        t_1 < t <= T - 1:         anneal(max_learning_rate, eta_min, (t - t_1) / (T - 1 - t_1))

    where anneal(a, b, x) = b + (a - b) (1 + cos(pi x)) / 2 ("cos") or a + (b - a) x
    ("linear"). ``three_phase=True`` is the original paper's cycle: up to the maximum by
    t_1, back down to eta_0 by t_2 = 2 pct_start T - 2, then to eta_min by T - 1.

    The learning rates are those of ``torch.optim.lr_scheduler.OneCycleLR`` with the same
    arguments (``max_lr``, ``total_steps``, ...) and ``cycle_momentum=False``, bit for bit
    (the same float64 expressions, ``torch/optim/lr_scheduler.py``); torch's default also
    cycles the optimizer's momentum (or Adam's beta_1) against the rate, which a schedule
    of the learning rate cannot do (refnet's and Keras' momentum is a fixed
    hyper-parameter). Keras has no 1cycle schedule.

    Past the cycle (step >= total_steps) the rate stays at its last value, the rate of
    step T - 1 (eta_min), as Keras' decaying schedules hold their final value; torch's
    OneCycleLR instead extrapolates at step T and raises at step T + 1. Arguments torch
    accepts but for which its rate is undefined (0 / 0) or skips a phase are refused: the
    warm-up must last more than one step (pct_start * total_steps > 1), and the last
    phase must not be empty (pct_start < 1; three_phase: 2 pct_start T - 2 < T - 1).

    Parameters
    ----------
    max_learning_rate : float > 0
        The peak rate, reached at step t_1.
    total_steps : int
        T, the steps of the cycle (epochs times batches per epoch).
    pct_start : float in (0, 1), default 0.3
        The fraction of the cycle spent rising.
    anneal_strategy : "cos" or "linear", default "cos"
    div_factor : float > 0, default 25.0
        eta_0 = max_learning_rate / div_factor.
    final_div_factor : float > 0, default 1e4
        eta_min = eta_0 / final_div_factor.
    three_phase : bool, default False

    >>> schedule = OneCycle(0.1, total_steps=10)   # t_1 = 0.3 * 10 - 1 = 2
    >>> [float(f"{schedule(t):.3g}") for t in (0, 1, 2, 9, 10)]
    [0.004, 0.052, 0.1, 4e-07, 4e-07]
    """

    def __init__(
        self,
        max_learning_rate: float,
        total_steps: int,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ):
        self.max_learning_rate = _check_positive(max_learning_rate, "max_learning_rate")
        self.total_steps = check_size(total_steps, "total_steps")
        self.pct_start = check_float(pct_start, "pct_start")
        if not isinstance(anneal_strategy, str):
            raise TypeError(
                "anneal_strategy: expected 'cos' or 'linear', got "
                f"{type(anneal_strategy).__name__}"
            )
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy: expected 'cos' or 'linear', got {anneal_strategy!r}"
            )
        self.anneal_strategy = anneal_strategy
        self.div_factor = _check_positive(div_factor, "div_factor")
        self.final_div_factor = _check_positive(final_div_factor, "final_div_factor")
        self.three_phase = check_bool(three_phase, "three_phase")
        self._phases()  # refuses a cycle with an empty phase

    def _phases(self) -> list[tuple[float, float, float]]:
        """[(end_step, start_lr, end_lr), ...], each phase ending where torch's does."""
        T, pct = self.total_steps, self.pct_start
        eta_max = self.max_learning_rate
        eta_0 = eta_max / self.div_factor
        eta_min = eta_0 / self.final_div_factor
        t_1 = float(pct * T) - 1
        if not 0 < pct < 1:
            raise ValueError(f"pct_start: expected a float in (0, 1), got {pct}")
        if t_1 <= 0:
            raise ValueError(
                "pct_start: expected the warm-up to last more than one step, "
                f"pct_start * total_steps > 1; got {pct} * {T} = {pct * T:g}"
            )
        if not self.three_phase:
            return [(t_1, eta_0, eta_max), (T - 1, eta_max, eta_min)]
        t_2 = float(2 * pct * T) - 2
        if t_2 >= T - 1:
            raise ValueError(
                "pct_start: with three_phase=True the rise and the return end at step "
                "2 * pct_start * total_steps - 2, which must come before the last step "
                f"total_steps - 1 = {T - 1}; got {t_2:g} (pct_start < "
                f"{(T + 1) / (2 * T):g} for this total_steps)"
            )
        return [(t_1, eta_0, eta_max), (t_2, eta_max, eta_0), (T - 1, eta_0, eta_min)]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def __call__(self, step: int) -> float:
        step = min(step, self.total_steps - 1)  # past the cycle: hold its last rate
        *early, last = self._phases()
        start_step = 0.0
        for end_step, start_lr, end_lr in early:
            if step <= end_step:
                break
            start_step = end_step
        else:  # the last phase, which ends at total_steps - 1
            end_step, start_lr, end_lr = last
        pct = (step - start_step) / (end_step - start_step)
        return self._anneal(start_lr, end_lr, pct)

    def __repr__(self) -> str:
        return (
            f"OneCycle({self.max_learning_rate}, total_steps={self.total_steps}, "
            f"pct_start={self.pct_start}, anneal_strategy={self.anneal_strategy!r}, "
            f"div_factor={self.div_factor}, final_div_factor={self.final_div_factor}, "
            f"three_phase={self.three_phase})"
        )


# ---------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------


def _check_decay_steps(decay_steps):
    """A positive, finite number of steps (an int or a float, as Keras accepts)."""
    if isinstance(decay_steps, bool) or not isinstance(decay_steps, numbers.Real):
        raise TypeError(
            f"decay_steps: expected a positive number, got {type(decay_steps).__name__}"
        )
    if not 0 < decay_steps < math.inf:
        raise ValueError(f"decay_steps: expected a positive number, got {decay_steps}")
    return decay_steps


def _check_real(value, name: str) -> float:
    return check_float(value, name)


def _check_positive(value, name: str) -> float:
    return check_float(value, name, minimum=0, strict=True)


def _check_unit(value, name: str, closed: bool) -> float:
    """A float in [0, 1] (closed) or [0, 1)."""
    value = _check_real(value, name)
    if value < 0 or value > 1 or (value == 1 and not closed):
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"{name}: expected a float in {interval}, got {value}")
    return value


def _check_learning_rate(value) -> float | Callable[[int], float]:
    if callable(value):
        return value
    return _check_positive(value, "learning_rate")


# ---------------------------------------------------------------------------------
# The shared loop: one update per weight
# ---------------------------------------------------------------------------------


class Optimizer:
    """The loop shared by every optimizer; subclasses define ``slots`` and ``update``.

    One step is ``apply(net, res)``, which checks the gradients and then runs the three
    public phases a training loop may also call directly (``Network.fit`` does, once
    the data are checked): ``bind(net)`` (the state belongs to that network),
    ``build(weights)`` (slots and scratch arrays, once) and ``update_all(weights,
    grads)`` (one unchecked step over every weight, in place).

    Attributes
    ----------
    learning_rate : float or callable
        A constant rate or a schedule step -> rate.
    iterations : int
        Steps taken so far (Keras' ``optimizer.iterations``).
    state : dict of str -> list of arrays
        Per-weight slots, each list in the order [W1, b1, W2, b2, ...].
    """

    def __init__(self, learning_rate):
        self.learning_rate = _check_learning_rate(learning_rate)
        self.iterations = 0
        self.state: dict[str, list[Array]] = {}
        self._owner: weakref.ref | None = None  # the network the state belongs to

    def bind(self, net) -> None:
        """Bind the state to ``net``'s weights; refuse any other network (W8).

        Another network object is accepted only when its weights are exactly the ones
        this optimizer last updated: a copy, or a saved and loaded continuation.
        """
        owner = getattr(self, "_owner", None)
        if owner is not None and owner() is net:
            return
        weights = net.weight_arrays()
        held = getattr(self, "_held", None)
        if (
            owner is not None
            and self.iterations
            and not (
                len(held) == len(weights)
                and all(
                    h.shape == w.shape and np.array_equal(h, w)
                    for h, w in zip(held, weights)
                )
            )
        ):
            raise ValueError(
                f"optimizer: this {type(self).__name__} holds the state of another "
                f"network ({self.iterations} steps taken) whose weights differ from this "
                "one's; it would start from that network's moments and step count. Give "
                "each network its own optimizer (a name such as 'adam' makes a fresh "
                "one); continuing on a copy or a loaded save of the same weights is fine"
            )
        self._owner, self._held = weakref.ref(net), weights

    def __getstate__(self) -> dict:
        """A copy (deepcopy, pickle) is unbound: it binds on its first step."""
        state = dict(self.__dict__)
        state["_owner"] = state["_held"] = None
        return state

    def slots(self) -> list[str]:
        """Names of the per-weight state arrays this configuration keeps."""
        return []

    def current_learning_rate(self) -> float:
        """lr for the next step: the constant, or the schedule at ``iterations``."""
        if callable(self.learning_rate):
            try:
                lr = self.learning_rate(self.iterations)
            # a schedule of the wrong signature, or one that fails
            except Exception as err:
                raise TypeError(
                    f"learning_rate: the schedule raised {type(err).__name__} at step "
                    f"{self.iterations}: {err} (expected a callable step -> rate)"
                ) from err
            return _check_positive(lr, "learning_rate(step)")
        return self.learning_rate

    def apply(self, net, res) -> None:
        """Update ``net``'s weights in place from ``res`` and count one step.

        Parameters
        ----------
        net : Network
            The network whose weights [W1, b1, ...] are updated.
        res : Gradients or sequence of arrays
            ``net.gradients(...)``'s result, or the gradients [dW1, db1, dW2, db2, ...]
            in the order of ``net.get_weights()`` (no db for a layer without bias, which
            has no slot either); cast to the weights' dtype.
        """
        weights = net.weight_arrays()  # [W1, b1, ...]; no b for a layer without bias
        grads = _check_grads(res, weights, net.weight_names())
        self.bind(net)
        self._step(weights, grads)

    def _step(self, weights: list[Array], grads: list[Array]) -> None:
        """``apply`` without checking the gradients."""
        self.build(weights)
        self.update_all(weights, grads)

    def update_all(self, weights: list[Array], grads: list[Array]) -> None:
        """One step over every weight, in place: w' = update(w, g) for the lists
        ``weights`` (``net.weight_arrays()``) and ``grads`` (``res.grads()``), unchecked;
        the state must be built (``build``; ``fit`` builds it once) and ``iterations``
        counts the step."""
        lr = self.current_learning_rate()
        if not self.state:  # no slots (plain SGD)
            for w, g, work in zip(weights, grads, self._work):
                self.update(w, g, lr, work)
        else:
            names = list(self.state)
            for w, g, work, *slots in zip(
                weights, grads, self._work, *self.state.values()
            ):
                self.update(w, g, lr, work, **dict(zip(names, slots)))
        self.iterations += 1

    def build(self, weights: list[Array]) -> None:
        """Zero slots for ``weights`` (``net.weight_arrays()``) on the first step;
        afterwards the net must keep its shapes (ValueError otherwise).

        Also two scratch arrays per weight for the update's intermediate results, views
        of two buffers the size of the largest weight (one weight is updated at a time).
        """
        shapes = [w.shape for w in weights]
        if getattr(self, "_work_shapes", None) != (shapes, weights[0].dtype):
            size = max(w.size for w in weights)
            flat = [np.empty(size, weights[0].dtype) for _ in range(2)]
            self._work = [[f[: w.size].reshape(w.shape) for f in flat] for w in weights]
            self._work_shapes = (shapes, weights[0].dtype)
        if not self.state:
            self.state = {
                name: [np.zeros_like(w) for w in weights] for name in self.slots()
            }
            return
        held = next(iter(self.state.values()))
        shapes = [s.shape for s in held]
        if shapes != [w.shape for w in weights] or held[0].dtype != weights[0].dtype:
            raise ValueError(
                f"net: this optimizer holds state for weights of shapes {shapes} "
                f"({held[0].dtype}); got {[w.shape for w in weights]} ({weights[0].dtype}). "
                "Use a new optimizer for a different network"
            )

    def update(
        self, w: Array, g: Array, lr: float, work: list[Array], **slots: Array
    ) -> None:
        """Update w in place from g. ``work`` holds two scratch arrays of w's shape and
        dtype (their contents are undefined) for intermediate results, so an update
        allocates nothing; ``slots`` are this weight's state arrays, updated in place."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor arguments, as Keras' ``get_config()`` names them."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_grads(res, weights: list[Array], names: list[str]) -> list[Array]:
    grads = res.grads() if hasattr(res, "grads") else res
    if not isinstance(grads, Sequence):
        raise TypeError(
            f"res: expected net.gradients(...)'s result or a list of arrays, "
            f"got {type(res).__name__}"
        )
    if len(grads) != len(weights):
        raise ValueError(
            f"res: expected {len(weights)} gradients "
            f"[{', '.join('d' + name for name in names)}], got {len(grads)}"
        )
    checked = []
    for g, w, name in zip(grads, weights, names):
        g = as_array(g, f"res (d{name})")
        if g.shape != w.shape:
            raise ValueError(f"res: expected d{name} of shape {w.shape}, got {g.shape}")
        if g.dtype.kind not in "biuf":
            raise TypeError(f"res: expected d{name} to be real numbers, got {g.dtype}")
        g = g.astype(w.dtype, copy=False)
        if not np.isfinite(g).all():
            raise ValueError(
                f"res: d{name} contains NaN or inf (the training diverged; "
                "try a smaller learning_rate)"
            )
        checked.append(g)
    return checked


# ---------------------------------------------------------------------------------
# The three optimizers
# ---------------------------------------------------------------------------------


class SGD(Optimizer):
    """w' = w - lr g, with optional momentum m' = momentum m - lr g (GD1, OPT1).

    Keras 3's update, for each weight w with gradient g:

        no momentum:   w' = w - lr g                                          (GD1)
        momentum:      m' = momentum m - lr g                                 (OPT1)
                       w' = w + m'
        nesterov:      m' = momentum m - lr g
                       w' = w + momentum m' - lr g

    Parameters
    ----------
    learning_rate : float or schedule, default 0.01
    momentum : float in [0, 1], default 0.0
    nesterov : bool, default False

    Notes
    -----
    Slot ``momentum`` (m, zeros at the start) exists only when momentum != 0. Keras casts
    ``momentum`` through float32; refnet uses it as given (module docstring).
    """

    def __init__(
        self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False
    ):
        super().__init__(learning_rate)
        self.momentum = _check_unit(momentum, "momentum", closed=True)
        self.nesterov = check_bool(nesterov, "nesterov")

    def slots(self) -> list[str]:
        return ["momentum"] if self.momentum != 0 else []

    def update(self, w, g, lr, work, momentum=None) -> None:
        t = w.dtype.type
        lr_g = np.multiply(g, t(lr), out=work[0])  # lr g
        if momentum is None:
            w -= lr_g  # w' = w - lr g                                      GD1
            return
        m = momentum
        m *= t(self.momentum)  # m' = momentum m - lr g                     OPT1
        m -= lr_g
        if self.nesterov:
            step = np.multiply(m, t(self.momentum), out=work[1])
            step -= lr_g
            w += step  # w' = w + momentum m' - lr g
        else:
            w += m  # w' = w + m'

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
        }


class RMSprop(Optimizer):
    """w' = w - lr g / sqrt(v' + epsilon), v' = rho v + (1 - rho) g^2 (OPT2).

    Keras 3's update, for each weight w with gradient g:

        v' = rho v + (1 - rho) g^2                                            (OPT2)
        centered:  mg' = rho mg + (1 - rho) g;   D = v' - mg'^2 + epsilon
        else:      D = v' + epsilon
        inc = lr g / sqrt(D)
        momentum > 0:  s' = momentum s + inc;   w' = w - s'
        else:          w' = w - inc

    epsilon sits inside the square root (Keras 3; Adam adds it outside).

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    rho : float in [0, 1), default 0.9
    momentum : float in [0, 1], default 0.0
    epsilon : float > 0, default 1e-7
    centered : bool, default False

    Notes
    -----
    Slots: ``velocity`` (v), plus ``momentum`` (s) when momentum > 0 and
    ``average_gradient`` (mg) when centered, all zeros at the start.
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
    ):
        super().__init__(learning_rate)
        self.rho = _check_unit(rho, "rho", closed=False)
        self.momentum = _check_unit(momentum, "momentum", closed=True)
        self.epsilon = _check_positive(epsilon, "epsilon")
        self.centered = check_bool(centered, "centered")

    def slots(self) -> list[str]:
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        return names

    def update(
        self, w, g, lr, work, velocity, momentum=None, average_gradient=None
    ) -> None:
        t = w.dtype.type
        rho = t(self.rho)
        s1, s2 = work
        v = velocity
        v *= rho  # v' = rho v + (1 - rho) g^2                             OPT2
        g2 = np.multiply(g, g, out=s1)
        v += np.multiply(g2, t(1 - self.rho), out=s1)
        if average_gradient is not None:
            mg = average_gradient
            mg *= rho  # mg' = rho mg + (1 - rho) g
            mg += np.multiply(g, t(1 - self.rho), out=s1)
            D = np.subtract(v, np.multiply(mg, mg, out=s2), out=s2)  # v' - mg'^2
            D += t(self.epsilon)  # D = v' - mg'^2 + epsilon
        else:
            D = np.add(v, t(self.epsilon), out=s2)  # D = v' + epsilon
        inc = np.multiply(g, t(lr), out=s1)
        inc /= np.sqrt(D, out=D)  # inc = lr g / sqrt(D)
        if momentum is not None:
            s = momentum
            s *= t(self.momentum)  # s' = momentum s + inc
            s += inc
            w -= s
        else:
            w -= inc

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adam(Optimizer):
    """w' = w - alpha_t m' / (sqrt(v') + epsilon), alpha_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t) (OPT3).

    Keras 3's update at step t = iterations + 1, for each weight w with gradient g:

        m' = beta_1 m + (1 - beta_1) g       (computed as m + (g - m)(1 - beta_1))  (OPT3)
        v' = beta_2 v + (1 - beta_2) g^2     (computed as v + (g^2 - v)(1 - beta_2))
        amsgrad:  vhat' = max(vhat, v'), and vhat' replaces v' below
        alpha_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w' = w - alpha_t m' / (sqrt(v') + epsilon)

    The bias corrections sit in alpha_t, so epsilon is added to sqrt(v') rather than to
    sqrt(v' / (1 - beta_2^t)) as in the paper's Algorithm 1.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_1, beta_2 : floats in [0, 1), defaults 0.9 and 0.999
    epsilon : float > 0, default 1e-7
    amsgrad : bool, default False

    Notes
    -----
    Slots: ``momentum`` (m), ``velocity`` (v), plus ``velocity_hat`` when amsgrad.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
    ):
        super().__init__(learning_rate)
        self.beta_1 = _check_unit(beta_1, "beta_1", closed=False)
        self.beta_2 = _check_unit(beta_2, "beta_2", closed=False)
        self.epsilon = _check_positive(epsilon, "epsilon")
        self.amsgrad = check_bool(amsgrad, "amsgrad")

    def slots(self) -> list[str]:
        return ["momentum", "velocity"] + (["velocity_hat"] if self.amsgrad else [])

    def step_size(self, lr: float, t: int) -> float:
        """alpha_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t), the bias-corrected rate (OPT3)."""
        return lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)

    def update(self, w, g, lr, work, momentum, velocity, velocity_hat=None) -> None:
        t = w.dtype.type
        alpha = t(self.step_size(lr, self.iterations + 1))
        s1, s2 = work  # scratch arrays: every pass below writes in place
        m, v = momentum, velocity
        dm = np.subtract(g, m, out=s1)  # m' = m + (g - m)(1 - beta_1)      OPT3
        dm *= t(1 - self.beta_1)
        m += dm
        dv = np.multiply(g, g, out=s1)  # v' = v + (g^2 - v)(1 - beta_2)
        dv -= v
        dv *= t(1 - self.beta_2)
        v += dv
        if velocity_hat is not None:
            np.maximum(velocity_hat, v, out=velocity_hat)  # vhat' = max(vhat, v')
            v = velocity_hat
        # w' = w - alpha_t m' / (sqrt(v') + epsilon)
        step = np.multiply(m, alpha, out=s1)
        denom = np.sqrt(v, out=s2)
        denom += t(self.epsilon)
        step /= denom
        w -= step

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


_REGISTRY: dict[str, type[Optimizer]] = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}


def names() -> list[str]:
    """The optimizer names ``get`` accepts."""
    return sorted(_REGISTRY)


def get(name: str | Optimizer, **kwargs) -> Optimizer:
    """An optimizer by name ("sgd", "rmsprop", "adam") with keyword arguments; an
    :class:`Optimizer` passes through. ValueError naming the choices for an unknown name."""
    if isinstance(name, Optimizer):
        return name
    if not isinstance(name, str):
        raise TypeError(f"optimizer: expected a name (str), got {type(name).__name__}")
    try:
        cls = _REGISTRY[name.lower()]
    except KeyError:
        raise ValueError(
            f"optimizer: unknown name {name!r}; expected one of {names()}"
        ) from None
    return cls(**kwargs)
