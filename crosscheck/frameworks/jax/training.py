"""Crosscheck of training against optax: the hyper-parameter mapping, stated exactly.

``compare_training(..., oracle="jax")`` (crosscheck/training.py) runs here: refnet's
optimizer (exact Python-float hyper-parameters, no float32 mirror: optax keeps them as
Python floats, rounded to the weights' dtype where they meet them) against the optax
transformation this module maps it to, on the network's pytree ``to_jax(net)``, a list
of ``(W, b)`` per layer (crosscheck/frameworks/jax/bridge.py). Gradient sources as for
Keras and torch: ``update`` feeds refnet's gradients to optax, ``tape`` runs
``jax.jit(jax.grad(...))`` through :func:`~crosscheck.frameworks.jax.bridge.forward`
and :func:`~crosscheck.frameworks.jax.losses.jax_loss` (optax's update runs eagerly, as
written: its small operations are compiled once per process and shared by every row).
float64 runs inside JAX's 64-bit scope (``x64_for``, crosscheck/frameworks/jax/imports.py),
float32 without it.

The update lines relied on (optax 0.2.8: ``optax/_src/alias.py`` for the optimizers,
``optax/_src/transform.py`` for their ``scale_by_*``, ``optax/transforms/_accumulation.py``
for ``trace``, ``optax/tree_utils/_tree_math.py`` for the moments; refnet's
``refnet/optimizers.py`` follows Keras 3):

SGD (OPT1). Keras: ``m = m * momentum - g * lr``; ``variable += m`` (nesterov:
``variable += m * momentum - g * lr``). optax, ``alias.sgd``: ``chain(trace(decay=
momentum, nesterov=nesterov), scale_by_learning_rate(learning_rate))``; ``trace``:
``f = lambda g, t: g + decay * t``, ``new_trace = f(g, t)``, ``updates = f(updates,
new_trace) if nesterov else new_trace``; ``scale_by_learning_rate`` multiplies by -lr
(``scale``: ``step_size * g``; a schedule: ``scale_by_schedule``, ``step_size_fn(
state.count)`` with count 0 at the first update). optax's trace is torch's buffer
b' = g + momentum b, the step -lr b' (nesterov: -lr (g + momentum b')): with a constant lr
Keras' m = -lr b after every step, so the same lr, momentum and nesterov give the same
weights. Under a changing lr Keras' m absorbs each step's lr and optax's trace does not:
with ``convert`` the trace is multiplied by lr_{t-1} / lr_t before step t (exact, plain
momentum and Nesterov alike), as the torch mapping does. momentum = 0 maps to
``momentum=None`` (no trace; Keras ignores nesterov then).

RMSprop (OPT2). Keras: ``denominator = velocity + epsilon`` (centered: ``velocity -
square(average_grad) + epsilon``), ``increment = lr * g / sqrt(denominator)``, momentum
``s = momentum * s + increment``, ``variable -= s``. optax, ``alias.rmsprop``:
``chain(scale_by_rms(decay, eps, initial_scale, eps_in_sqrt, bias_correction)`` (centered:
``scale_by_stddev``), ``scale_by_learning_rate(learning_rate)``, ``trace(decay=
momentum, nesterov)`` if momentum is not None); ``scale_by_rms``: ``nu =
update_moment_per_elem_norm(updates, state.nu, decay, 2)``, that is ``(1 - decay) * g**2
+ decay * nu``, then ``rsqrt(n + eps)`` if ``eps_in_sqrt`` else ``1 / (sqrt(n) + eps)``;
``scale_by_stddev``: ``mu = (1 - decay) * g + decay * mu`` and ``rsqrt(n - abs_sq(m) +
eps)``. The mapping: decay = rho, eps = epsilon, ``eps_in_sqrt=True`` (optax's default:
epsilon inside the square root, Keras' placement; False is torch's), ``initial_scale=0``
(optax's default; TF1 started at 1), ``bias_correction=False``, centered, momentum (None
for 0), ``nesterov=False``. optax applies the momentum trace *after* the learning rate,
so its trace is -s, Keras' slot, under any schedule. Exact: no conversion and no bound,
so the training rows keep Keras' epsilon 1e-7 (torch's need epsilon = 1e-30).

Adam (OPT3). Keras: ``alpha = lr * sqrt(1 - beta_2_power) / (1 - beta_1_power)``;
``variable -= m * alpha / (sqrt(v) + epsilon)``. optax, ``alias.adam``:
``chain(scale_by_adam(b1, b2, eps, eps_root), scale_by_learning_rate(learning_rate))``;
``scale_by_adam``: ``mu = update_moment(updates, state.mu, b1, 1)``, ``nu =
update_moment_per_elem_norm(updates, state.nu, b2, 2)``, ``count_inc =
safe_increment(state.count)``, ``mu_hat = bias_correction(mu, b1, count_inc)`` (``mu / (1
- b1**count)``), ``nu_hat = bias_correction(nu, b2, count_inc)``, ``updates = m /
(jnp.sqrt(v + eps_root) + eps)``. Multiplied out (eps_root = 0), optax's step is lr
sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps sqrt(1 - b2^t)): Keras' epsilon is optax's
times sqrt(1 - beta_2^t), as torch's (optax follows the paper's Algorithm 1). With
``convert``, eps = epsilon / sqrt(1 - beta_2^t) at step t, a schedule of optax's count
given through ``optax.inject_hyperparams(optax.adam)`` (exact; ``eps_root`` sits inside
the square root and cannot do it). Without, the same epsilon number: a relative change of
the denominator of at most epsilon (1/sqrt(1 - beta_2^t) - 1) / (sqrt(v) + epsilon).

AMSGrad. optax, ``alias.amsgrad`` -> ``scale_by_amsgrad``: ``nu_eff =
bias_correction(nu, b2, count_inc)`` if ``bias_correction_nu`` (the default) else nu;
``nu_max = jax.tree.map(jnp.maximum, state.nu_max, nu_eff)``; ``updates = mu_hat /
(jnp.sqrt(v + eps_root) + eps)`` over nu_max. By default the maximum is over the
*bias-corrected* nu / (1 - b2^s), where Keras (``v_hat = maximum(v_hat, v)``) and torch
take it over the raw v and then divide by 1 - beta_2^t: no eps makes the two equal.
With ``bias_correction_nu=False`` the maximum is raw, and the step lr / (1 - b1^t) m /
(sqrt(v_max) + eps) lacks Keras' sqrt(1 - beta_2^t): the mapping passes
``learning_rate = lr_t sqrt(1 - beta_2^t)`` (a schedule of the count) and eps = epsilon
itself: exact. (convert=False: ``optax.amsgrad`` with the same numbers and its defaults.)

Defaults differ (only the arguments matter here; every one is passed explicitly):
optax's eps is 1e-8 (Keras 1e-7); ``optax.sgd``'s momentum None; ``optax.rmsprop``'s decay
0.9 as Keras' rho; optax has no default learning rate.

Learning-rate schedules (optax evaluates a schedule at its update count, 0 at the first
update: refnet's ``iterations``). The count is an int32 array, and JAX divides two ints
in float32 even in 64-bit mode (``int32 / int`` is float32), so optax's own schedules
give a float64 network rates rounded to float32 (errors of order 1e-7 relative; the
float64 rows then fail at ~4e-8 of the distance moved). With ``convert`` each schedule
is evaluated at the count as a float (:func:`float_count`), which changes nothing else:

* :class:`~refnet.optimizers.ExponentialDecay` (LR1) maps to ``optax.exponential_decay(
  init_value, transition_steps=decay_steps, decay_rate, staircase=staircase)``:
  ``p = decreased_count / transition_steps``, ``jnp.floor(p)`` when staircase,
  ``init_value * jnp.power(decay_rate, p)``, refnet's formula in jnp: equal up to
  rounding.
* :class:`~refnet.optimizers.InverseTimeDecay` (LR2): optax has no inverse-time schedule
  (``polynomial_schedule`` is (init - end)(1 - t/T)^power + end, which reaches ``end`` at
  step T). It is written out as a schedule function of the count in jnp, lr0 / (1 +
  decay_rate p)^power with p = count / decay_steps (floored when staircase), which every
  optax optimizer takes as its ``learning_rate``: equal up to rounding.
* :class:`~refnet.optimizers.OneCycle` (LR3): optax's ``cosine_onecycle_schedule(
  transition_steps, peak_value, pct_start, div_factor, final_div_factor)`` is
  ``piecewise_interpolate_schedule('cosine', peak_value / div_factor, {int(pct_start *
  transition_steps): div_factor, int(transition_steps): 1 / (div_factor *
  final_div_factor)})``, and ``linear_onecycle_schedule`` the three linear phases with
  ``pct_final``. Their phases end at int(pct_start T) and T, where refnet's (and torch's)
  end at pct_start T - 1 and T - 1: the same arguments peak one step late. The mapping
  passes transition_steps = T - 1 and pct_start = t_1 / (T - 1) (pct_final = t_2 / (T - 1)):
  ``cosine_onecycle_schedule`` for the two cosine phases and ``linear_onecycle_schedule``
  for the three linear ones when t_1 (and t_2) are whole steps, else
  ``piecewise_interpolate_schedule`` itself (what both are built on) with refnet's phase
  ends as its boundaries (it interpolates over fractional ones as given). Past the cycle
  optax holds its last value, refnet's rule. A phase after the first shorter than one
  step, which optax's interpolation widens to one (``jnp.maximum(bounds[1:] -
  bounds[:-1], 1)``), gets refnet's own rates instead, as a table indexed by the count.

Other schedules are refused.

jax and optax are imported on first use: without them ``compare_training(oracle="jax")``
raises ImportError with the install hint; ``python -m crosscheck`` skips an absent oracle.
"""

from __future__ import annotations

import copy
import functools

import numpy as np

import refnet
from refnet import optimizers as ropt

from ...training_report import Tracker, TrainingReport
from .bridge import activations_of, forward, to_jax
from .imports import import_jax, import_optax, x64_for
from .losses import jax_loss, jax_targets

TITLE = " against optax"  # the report title's tail
# beyond jax, the packages the training rows import (where one is absent: a note)
NEEDS = ("optax",)
ROW_SKIP = ()  # every training row of crosscheck.training.training_cases runs
ROW_RMSPROP = {}  # optax's RMSprop takes Keras' epsilon placement: no change needed

SCHEDULES = (ropt.ExponentialDecay, ropt.InverseTimeDecay, ropt.OneCycle)


# ---------------------------------------------------------------------------------
# The mapping
# ---------------------------------------------------------------------------------


def _refuse(lr):
    raise ValueError(
        "optimizer: only constant rates, ExponentialDecay, InverseTimeDecay and "
        f"OneCycle map to optax, got {lr!r}"
    )


def optax_hyper(optimizer: ropt.Optimizer, convert: bool = True) -> tuple[str, dict]:
    """(the optax optimizer's name, its keyword arguments) equal to ``optimizer``'s rule.

    Values are numbers, bools, or functions of optax's update count (0 at the first
    update) where the mapping changes from step to step: Adam's eps (``convert``) and
    AMSGrad's learning_rate. A schedule's learning_rate is :func:`optax_schedule`'s
    (which imports optax). ``convert=False`` passes the same numbers under optax's names
    (the naive mapping).
    """
    c = optimizer.get_config()
    lr = c["learning_rate"]
    rate = lr
    if callable(lr):
        rate = optax_schedule(lr)
        if convert:
            rate = float_count(rate)
    if isinstance(optimizer, ropt.SGD):
        momentum = c["momentum"] or None  # 0: no trace (Keras ignores nesterov then)
        nesterov = c["nesterov"] and momentum is not None
        return "sgd", {
            "learning_rate": rate,
            "momentum": momentum,
            "nesterov": nesterov,
        }
    if isinstance(optimizer, ropt.RMSprop):
        return "rmsprop", {
            "learning_rate": rate,
            "decay": c["rho"],
            "eps": c["epsilon"],
            "initial_scale": 0.0,
            "eps_in_sqrt": True,
            "centered": c["centered"],
            "momentum": c["momentum"] or None,
            "nesterov": False,
            "bias_correction": False,
        }
    if isinstance(optimizer, ropt.Adam):
        b1, b2, epsilon = c["beta_1"], c["beta_2"], c["epsilon"]
        out = {"learning_rate": rate, "b1": b1, "b2": b2, "eps": epsilon}
        out["eps_root"] = 0.0
        if not convert:
            return ("amsgrad" if c["amsgrad"] else "adam"), out
        if c["amsgrad"]:

            def amsgrad_rate(count):
                """lr_t sqrt(1 - beta_2^t): Keras' bias correction of v, which
                bias_correction_nu=False leaves out (count: an int or optax's)."""
                base = rate(count) if callable(rate) else rate
                return base * (1 - b2 ** (count + 1)) ** 0.5

            out["learning_rate"] = amsgrad_rate
            return "amsgrad", out | {"bias_correction_nu": False}

        def adam_eps(count):
            """epsilon / sqrt(1 - beta_2^t): Keras' epsilon in optax's place (count:
            an int or optax's)."""
            return epsilon / (1 - b2 ** (count + 1)) ** 0.5

        return "adam", out | {"eps": adam_eps}
    raise TypeError(
        f"optimizer: expected refnet SGD, RMSprop or Adam, got {type(optimizer).__name__}"
    )


def optax_schedule(lr):
    """The optax schedule (a function of the update count) for refnet schedule ``lr``
    (module docstring: exponential_decay for LR1, a jnp function for LR2,
    cosine_onecycle_schedule / linear_onecycle_schedule / piecewise_interpolate_schedule
    for LR3)."""
    if not isinstance(lr, SCHEDULES):
        _refuse(lr)
    optax = import_optax()
    if isinstance(lr, ropt.ExponentialDecay):
        return optax.exponential_decay(
            init_value=lr.initial_learning_rate,
            transition_steps=lr.decay_steps,
            decay_rate=lr.decay_rate,
            staircase=lr.staircase,
        )
    if isinstance(lr, ropt.InverseTimeDecay):
        jnp = import_jax().numpy
        lr0, T, r, power = (
            lr.initial_learning_rate,
            lr.decay_steps,
            lr.decay_rate,
            lr.power,
        )
        staircase = lr.staircase

        def inverse_time_decay(count):
            """lr0 / (1 + decay_rate p)^power, p = count / decay_steps (floored when
            staircase)."""
            p = jnp.asarray(count, dtype=float) / T  # not int32 / int: float32
            if staircase:
                p = jnp.floor(p)
            return lr0 / (1 + r * p) ** power

        return inverse_time_decay
    return _one_cycle(lr, optax)


def float_count(schedule):
    """``schedule`` evaluated at the update count as a float: optax keeps the count as
    int32, and JAX divides two ints in float32 even in 64-bit mode, so optax's own
    schedules (``count / transition_steps``) would give a float64 network a rate rounded
    to float32."""
    jnp = import_jax().numpy

    def at_float_count(count):
        return schedule(jnp.asarray(count, dtype=float))

    at_float_count.schedule = schedule
    return at_float_count


def one_cycle_phases(lr: ropt.OneCycle) -> list[float]:
    """refnet's phase ends t_1 (, t_2), T - 1 of a 1cycle, in steps (refnet/optimizers.py:
    t_1 = pct_start T - 1, t_2 = 2 pct_start T - 2)."""
    T, pct = lr.total_steps, lr.pct_start
    ends = [float(pct * T) - 1]
    if lr.three_phase:
        ends.append(float(2 * pct * T) - 2)
    return ends + [T - 1]


def _one_cycle(lr: ropt.OneCycle, optax):
    ends = one_cycle_phases(lr)
    if min(np.diff(ends)) < 1:  # optax would widen that phase to one step
        return _rate_table(lr)
    T1 = lr.total_steps - 1
    whole = all(float(e).is_integer() for e in ends)
    pcts = [e / T1 for e in ends[:-1]]
    if whole and all(int(p * T1) == e for p, e in zip(pcts, ends)):
        if lr.anneal_strategy == "cos" and not lr.three_phase:
            return optax.cosine_onecycle_schedule(
                T1, lr.max_learning_rate, pcts[0], lr.div_factor, lr.final_div_factor
            )
        if lr.anneal_strategy == "linear" and lr.three_phase:
            return optax.linear_onecycle_schedule(
                T1,
                lr.max_learning_rate,
                pcts[0],
                pcts[1],
                lr.div_factor,
                lr.final_div_factor,
            )
    div, final = lr.div_factor, lr.final_div_factor
    scales = [div, 1 / div, 1 / final] if lr.three_phase else [div, 1 / (div * final)]
    return optax.piecewise_interpolate_schedule(
        "cosine" if lr.anneal_strategy == "cos" else "linear",
        lr.max_learning_rate / div,
        dict(zip(ends, scales)),
    )


def _rate_table(lr: ropt.OneCycle):
    """refnet's own rates of a 1cycle as a schedule function of the count: a table of
    its total_steps rates, the last held past the cycle."""
    jnp = import_jax().numpy
    rates = np.array([lr(t) for t in range(lr.total_steps)])

    def one_cycle_rates(count):
        last = lr.total_steps - 1
        return jnp.asarray(rates)[jnp.minimum(jnp.asarray(count), last).astype(int)]

    return one_cycle_rates


def optax_transformation(optimizer: ropt.Optimizer, convert: bool = True):
    """The optax GradientTransformation of :func:`optax_hyper`: the optimizer itself, or
    through ``optax.inject_hyperparams`` when a hyper-parameter other than the learning
    rate changes per step (Adam's eps)."""
    return _transformation(*optax_hyper(optimizer, convert))


def _transformation(name: str, kwargs: dict):
    optax = import_optax()
    factory = getattr(optax, name)
    if any(callable(v) for k, v in kwargs.items() if k != "learning_rate"):
        return optax.inject_hyperparams(factory)(**kwargs)
    return factory(**kwargs)


class OptaxOptimizer:
    """The optax transformation for a refnet optimizer's configuration, and its state.

    ``step(grads, params)`` returns the new params: under a changing learning rate SGD's
    trace is first rescaled by lr_{t-1} / lr_t (``convert``), then optax's ``update`` and
    ``apply_updates`` run. Fresh state.
    """

    def __init__(self, optimizer: ropt.Optimizer, params, convert: bool = True):
        self.optax = import_optax()
        name, kwargs = optax_hyper(optimizer, convert)
        self.tx = _transformation(name, kwargs)
        self.state = self.tx.init(params)
        lr = kwargs["learning_rate"]  # the rate optax uses
        self.rate = lr if callable(lr) else None
        self.rescale = (
            convert
            and self.rate is not None
            and isinstance(optimizer, ropt.SGD)
            and optimizer.momentum > 0
        )
        self.t = 0  # optax's update count
        self._lr_prev = None

    def step(self, grads, params):
        if self.rescale:
            lr = float(self.rate(self.t))  # this step's
            if self._lr_prev not in (None, lr):
                self.state = _scale_trace(self.state, self._lr_prev / lr, self.optax)
            self._lr_prev = lr
        updates, self.state = self.tx.update(grads, self.state, params)
        self.t += 1
        return self.optax.apply_updates(params, updates)


def _scale_trace(state, ratio: float, optax):
    """``state`` with every optax ``TraceState``'s trace multiplied by ``ratio``."""
    if isinstance(state, optax.TraceState):
        jax = import_jax()
        return state._replace(trace=jax.tree.map(lambda b: b * ratio, state.trace))
    if isinstance(state, tuple) and not hasattr(state, "_fields"):  # a chain's states
        return tuple(_scale_trace(s, ratio, optax) for s in state)
    return state


# ---------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------


def _as_pytree(net: refnet.Network, grads) -> list:
    """refnet's gradients [dW1, db1, ...] (no db without bias) as to_jax's pytree."""
    jnp = import_jax().numpy
    it = iter(grads)
    out = []
    for layer in net.layers:
        dW = jnp.asarray(next(it))
        out.append((dW, jnp.asarray(next(it)) if layer.use_bias else None))
    return out


def _as_refnet(params) -> list[np.ndarray]:
    """The pytree's weights back in refnet's order [W1, b1, ...] (no b without bias)."""
    return [np.asarray(w) for W, b in params for w in (W, b) if w is not None]


@functools.lru_cache(maxsize=64)
def _grad(activations: tuple, loss_name: str):
    """jax.grad of the batch loss of forward(params, x) with respect to params,
    compiled by jax.jit (once per activations, loss, shapes and dtype)."""
    jax = import_jax()
    loss = jax_loss(loss_name)

    def objective(params, x, y):
        return loss(forward(params, x, list(activations)), y)

    return jax.jit(jax.grad(objective))


def run(
    report: TrainingReport,
    net: refnet.Network,
    batches,
    loss_name: str,
    optimizer: ropt.Optimizer,
    sources: list[str],
    w0: list,
    rtol: float,
    convert: bool = True,
    **_,
) -> TrainingReport:
    """compare_training's steps against optax, in this process (``convert``: the exact
    per-step conversions of the module docstring)."""
    jax = import_jax()
    import_optax()
    k = net.sizes[-1]
    grad = _grad(tuple(activations_of(net)), loss_name)
    with x64_for(net.dtype):
        for source in sources:
            ref_net = copy.deepcopy(net)
            ref_opt = type(optimizer)(**optimizer.get_config())  # exact, fresh state
            params = to_jax(net)
            opt = OptaxOptimizer(optimizer, params, convert)
            tracker = Tracker(source, w0, rtol, net.weight_names())
            for step, (xb, yb) in enumerate(batches(), start=1):
                res = ref_net.gradients(xb, yb, loss_name)
                if source == "update":
                    grads = _as_pytree(net, res.grads())
                else:
                    y = jax_targets(loss_name, yb, k, net.dtype)
                    grads = grad(params, jax.numpy.asarray(xb), jax.numpy.asarray(y))
                params = opt.step(grads, params)
                ref_opt.apply(ref_net, res)
                tracker.add(step, ref_net.get_weights(), _as_refnet(params))
            report.rows.extend(tracker.rows())
            report.rel_moved.update(tracker.rel_moved)
    return report
