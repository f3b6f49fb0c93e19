"""Crosscheck of training against ``torch.optim``: the hyper-parameter mapping, stated exactly.

``compare_training(..., oracle="torch")`` (crosscheck/training.py) runs here: refnet's
optimizer (exact Python-float hyper-parameters, no float32 mirror: torch keeps them as
Python floats too) against the ``torch.optim`` optimizer this module maps it to, on the
network's ``nn.Linear`` copy (``weight = W.T``). Gradient sources as for Keras: ``update``
sets each parameter's ``.grad`` to refnet's gradient (dW.T, db), ``tape`` runs torch's
autograd through ``to_torch(net)`` and :func:`torch_loss`.

The update lines relied on (torch 2.x ``torch/optim/{sgd,rmsprop,adam}.py``, the
single-tensor path torch takes on CPU; Keras 3 ``keras/src/optimizers``; refnet's
``refnet/optimizers.py`` follows Keras):

SGD (OPT1). Keras: ``m = m * momentum - g * lr``; ``variable += m`` (nesterov:
``variable += m * momentum - g * lr``). torch: ``buf = grad.clone()`` on the first step,
then ``buf.mul_(momentum).add_(grad, alpha=1 - dampening)``; ``grad = grad.add(buf,
alpha=momentum)`` if nesterov else ``grad = buf``; ``param.add_(grad, alpha=-lr)``.
With dampening = 0 and a constant lr, m = -lr buf after every step, so the same
lr, momentum and nesterov give the same weights. With a learning rate that changes,
Keras' m absorbs each step's lr and torch's buf does not (m_t = -lr_t buf_t needs
buf_{t-1} scaled by lr_{t-1} / lr_t): with ``convert``, torch's ``momentum_buffer`` is
multiplied by lr_{t-1} / lr_t before step t, which is exact for plain momentum and
Nesterov alike. The same holds for RMSprop's momentum slot (Keras' = lr times torch's).

RMSprop (OPT2). Keras: ``denominator = velocity + epsilon`` (centered: ``velocity -
square(average_grad) + epsilon``), ``increment = lr * g / sqrt(denominator)``. torch:
``square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)``, centered
``grad_avg.lerp_(grad, 1 - alpha)`` and ``avg = square_avg.addcmul(grad_avg, grad_avg,
value=-1).sqrt_()``, else ``avg = square_avg.sqrt()``; then ``avg = avg.add_(eps)``
and ``param.addcdiv_(grad, avg, value=-lr)`` (momentum: ``buf.mul_(momentum).addcdiv_(
grad, avg)``; ``param.add_(buf, alpha=-lr)``, so Keras' momentum slot = lr buf). rho is
torch's ``alpha``. Epsilon sits inside the square root in Keras/refnet, outside in
torch: sqrt(v + e) against sqrt(v) + e, and no single torch eps makes the two equal for
every v. The relative difference of the denominators is at most e_refnet / (2 v) +
e_torch / sqrt(v) (v the denominator's variance term, > 0); :func:`rmsprop_bound`
measures it over a run. The training rows use epsilon = 1e-30 on both sides, which
float64 absorbs exactly (v + 1e-30 == v) for v > 1e-14 and float32 for v > 2e-23.

Adam (OPT3). Keras: ``alpha = lr * sqrt(1 - beta_2_power) / (1 - beta_1_power)``;
``variable -= m * alpha / (sqrt(v) + epsilon)``. torch: ``bias_correction2_sqrt =
bias_correction2**0.5``; ``denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)``;
``param.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)``. Multiplying out,
torch's step is lr sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(v) + eps sqrt(1 -
beta_2^t)): Keras' epsilon is torch's times sqrt(1 - beta_2^t). With ``convert``, torch's
eps is set to epsilon / sqrt(1 - beta_2^t) before step t (exact); without, the same
epsilon number is a relative change of the denominator of at most epsilon (1/sqrt(1 -
beta_2^t) - 1) / (sqrt(v) + epsilon), largest at the first steps (sqrt(1 - 0.999) = 0.032).
AMSGrad: both take the maximum over the *raw* second moments (Keras ``v_hat =
maximum(v_hat, v)``; torch ``torch.maximum(max_exp_avg_sqs[i], exp_avg_sq)``, then
divided by ``bias_correction2_sqrt``), not over bias-corrected ones; same epsilon rule.

Defaults differ (only the arguments matter here; every one is passed explicitly):
torch's eps is 1e-8 (Keras 1e-7), RMSprop's lr 0.01 and alpha 0.99 (Keras 0.001, rho 0.9).

Learning-rate schedules, each stepped after every optimizer step as a torch loop does
(the scheduler's ``last_epoch`` is then refnet's ``iterations``):

* :class:`~refnet.optimizers.ExponentialDecay` (LR1) maps to
  ``torch.optim.lr_scheduler.ExponentialLR(gamma = decay_rate ** (1 / decay_steps))``
  (torch multiplies lr by gamma each step) or, with ``staircase``, to ``StepLR(step_size =
  decay_steps, gamma = decay_rate)``: rates equal up to rounding.
* :class:`~refnet.optimizers.InverseTimeDecay` (LR2; torch has no such scheduler) maps to
  ``LambdaLR(lr_lambda = t -> 1 / (1 + decay_rate p) ** power)``, p = t / decay_steps
  (floored when staircase): torch's rate is initial_learning_rate times that factor,
  equal up to rounding.
* :class:`~refnet.optimizers.OneCycle` (LR3) maps to ``OneCycleLR(max_lr, total_steps,
  pct_start, anneal_strategy, cycle_momentum=False, div_factor, final_div_factor,
  three_phase)``: the same rates bit for bit. ``cycle_momentum=False`` because torch's
  default also sets the optimizer's momentum (SGD, RMSprop) or beta_1 (Adam) at every
  step, from 0.95 down to 0.85 and back, which no refnet or Keras optimizer does (their
  momentum is a constant; a schedule is of the learning rate only): with it, even
  ``SGD(momentum=0)`` becomes SGD with momentum 0.95. torch raises at step total_steps + 1
  and extrapolates the anneal at step total_steps; the mapping stops stepping the
  scheduler at step total_steps - 1, holding that last rate, which is refnet's rule.
  (:class:`TorchOptimizer` also re-sets momentum and betas before every step.)

Other schedules are refused.

torch is imported on first use: without it ``compare_training(oracle="torch")`` raises
ImportError with the install hint (as the TensorFlow side does); ``python -m crosscheck``
skips an absent oracle.
"""

from __future__ import annotations

import copy
import math

import numpy as np

import refnet
from refnet import optimizers as ropt

from ...training_report import Tracker, TrainingReport
from .bridge import to_torch
from .imports import check_optim_safe, import_torch
from .losses import torch_loss

RMSPROP_ROW_EPSILON = 1e-30  # the training rows' RMSprop epsilon (module docstring)
TITLE = " against torch.optim"  # the report title's tail
ROW_SKIP = ()  # every training row of crosscheck.training.training_cases runs
ROW_RMSPROP = {"epsilon": RMSPROP_ROW_EPSILON}  # RMSprop's options in the rows


# ---------------------------------------------------------------------------------
# The mapping
# ---------------------------------------------------------------------------------


def torch_hyper(optimizer: ropt.Optimizer, t: int, convert: bool = True) -> dict:
    """torch.optim keyword arguments equal to ``optimizer``'s rule at step t (1-based).

    lr is left out for a schedule (torch's scheduler sets it). ``convert`` applies Adam's
    eps = epsilon / sqrt(1 - beta_2^t); False passes the same numbers under torch's
    names (the naive mapping).
    """
    c = optimizer.get_config()
    out = {} if callable(c["learning_rate"]) else {"lr": c["learning_rate"]}
    if isinstance(optimizer, ropt.SGD):
        # torch refuses nesterov without momentum; Keras ignores it then
        nesterov = c["nesterov"] and c["momentum"] > 0
        return out | {"momentum": c["momentum"], "nesterov": nesterov, "dampening": 0.0}
    if isinstance(optimizer, ropt.RMSprop):
        return out | {
            "alpha": c["rho"],
            "eps": c["epsilon"],
            "momentum": c["momentum"],
            "centered": c["centered"],
        }
    if isinstance(optimizer, ropt.Adam):
        eps = c["epsilon"]
        if convert:
            eps = eps / math.sqrt(1 - c["beta_2"] ** t)
        return out | {
            "betas": (c["beta_1"], c["beta_2"]),
            "eps": eps,
            "amsgrad": c["amsgrad"],
        }
    raise TypeError(
        f"optimizer: expected refnet SGD, RMSprop or Adam, got {type(optimizer).__name__}"
    )


SCHEDULES = (ropt.ExponentialDecay, ropt.InverseTimeDecay, ropt.OneCycle)


def torch_scheduler(lr, opt):
    """The ``torch.optim.lr_scheduler`` for refnet schedule ``lr`` on ``opt`` (module
    docstring: ExponentialLR / StepLR for LR1, LambdaLR for LR2, OneCycleLR with
    cycle_momentum=False for LR3)."""
    sched = import_torch().optim.lr_scheduler
    if isinstance(lr, ropt.ExponentialDecay):
        if lr.staircase:
            return sched.StepLR(opt, lr.decay_steps, lr.decay_rate)
        return sched.ExponentialLR(opt, lr.decay_rate ** (1 / lr.decay_steps))
    if isinstance(lr, ropt.InverseTimeDecay):

        def factor(t: int) -> float:
            p = t / lr.decay_steps
            if lr.staircase:
                p = math.floor(p)
            return 1 / (1 + lr.decay_rate * p) ** lr.power

        return sched.LambdaLR(opt, factor)
    if isinstance(lr, ropt.OneCycle):
        return sched.OneCycleLR(
            opt,
            max_lr=lr.max_learning_rate,
            total_steps=lr.total_steps,
            pct_start=lr.pct_start,
            anneal_strategy=lr.anneal_strategy,
            cycle_momentum=False,
            div_factor=lr.div_factor,
            final_div_factor=lr.final_div_factor,
            three_phase=lr.three_phase,
        )
    raise ValueError(
        "optimizer: only constant rates, ExponentialDecay, InverseTimeDecay and "
        f"OneCycle map to torch, got {lr!r}"
    )


class TorchOptimizer:
    """The torch.optim optimizer (and scheduler) for a refnet optimizer's configuration.

    ``step()`` applies the per-step conversions (Adam's eps in the parameter group;
    under a changing lr, the momentum buffer rescaled by lr_{t-1} / lr_t), then calls
    ``torch.optim``'s ``step`` and the scheduler's. Fresh state.
    """

    def __init__(self, optimizer: ropt.Optimizer, params, convert: bool = True):
        torch = import_torch()
        self.optimizer, self.convert, self.t = optimizer, convert, 0
        lr = optimizer.get_config()["learning_rate"]
        kwargs = torch_hyper(optimizer, 1, convert)
        if callable(lr):
            if not isinstance(lr, SCHEDULES):
                raise ValueError(
                    "optimizer: only constant rates, ExponentialDecay, InverseTimeDecay "
                    f"and OneCycle map to torch, got {lr!r}"
                )
            kwargs["lr"] = lr(0)
        classes = {
            ropt.SGD: torch.optim.SGD,
            ropt.RMSprop: torch.optim.RMSprop,
            ropt.Adam: torch.optim.Adam,
        }
        cls = next(c for r, c in classes.items() if isinstance(optimizer, r))
        self.opt = cls(params, **kwargs)
        self.scheduler = torch_scheduler(lr, self.opt) if callable(lr) else None
        # OneCycleLR: stop stepping at the cycle's last step (refnet holds that rate)
        self._last_step = lr.total_steps - 1 if isinstance(lr, ropt.OneCycle) else None
        self._lr_prev = None

    def step(self) -> None:
        self.t += 1
        (group,) = self.opt.param_groups
        group.update(torch_hyper(self.optimizer, self.t, self.convert))
        lr = group["lr"]  # this step's (the scheduler set it)
        if self.convert and self._lr_prev not in (None, lr):
            # Keras' momentum slot is lr times torch's buffer (-lr for SGD): when lr
            # changes, rescale the buffer so the slot's value carries over
            for p in group["params"]:
                buf = self.opt.state[p].get("momentum_buffer")
                if buf is not None:
                    buf.mul_(self._lr_prev / lr)
        self._lr_prev = lr
        self.opt.step()
        if self.scheduler is not None and (
            self._last_step is None or self.scheduler.last_epoch < self._last_step
        ):
            self.scheduler.step()


def rmsprop_bound(optimizer: ropt.RMSprop, torch_eps: float) -> float:
    """Largest relative difference of the denominators, sqrt(v + e) (refnet) against
    sqrt(v) + torch_eps (torch), bounded by e / (2 v) + torch_eps / sqrt(v) over the
    entries with v > 0 in ``optimizer``'s current state (v: velocity, minus
    average_gradient^2 when centered)."""
    e = optimizer.epsilon
    worst = 0.0
    avg = optimizer.state.get("average_gradient")
    for i, v in enumerate(optimizer.state["velocity"]):
        v = np.asarray(v, np.float64)
        if avg is not None:
            v = v - np.asarray(avg[i], np.float64) ** 2
        v = v[v > 0]
        if v.size:
            worst = max(worst, float((e / (2 * v) + torch_eps / np.sqrt(v)).max()))
    return worst


def _as_refnet(params) -> list[np.ndarray]:
    """torch parameters back in refnet's layout [W1, b1, ...]."""
    out = []
    for p in params:
        a = p.detach().numpy()
        out.append(a.T if a.ndim == 2 else a)
    return out


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
    """compare_training's steps against torch.optim, in this process (``convert``: the
    exact per-step conversions of the module docstring)."""
    torch = import_torch()
    check_optim_safe()
    for source in sources:
        ref_net = copy.deepcopy(net)
        ref_opt = type(optimizer)(**optimizer.get_config())  # exact, fresh state
        model = to_torch(net)  # nn.Linear: weight = W.T
        params = list(model.parameters())  # [W1.T, b1, W2.T, b2, ...]
        t_loss = torch_loss(loss_name)
        t_opt = TorchOptimizer(optimizer, params, convert)
        tracker = Tracker(source, w0, rtol, net.weight_names())
        bound = 0.0
        for step, (xb, yb) in enumerate(batches(), start=1):
            res = ref_net.gradients(xb, yb, loss_name)
            if source == "update":
                for p, g in zip(params, res.grads()):
                    p.grad = torch.from_numpy(np.array(g.T if g.ndim == 2 else g))
            else:
                y = refnet.losses.get(loss_name).prepare(yb, res.a[-1])
                t_opt.opt.zero_grad()
                out = model(torch.from_numpy(xb))
                t_loss(out, torch.from_numpy(np.asarray(y, xb.dtype))).backward()
            t_opt.step()
            ref_opt.apply(ref_net, res)
            if isinstance(optimizer, ropt.RMSprop):
                bound = max(bound, rmsprop_bound(ref_opt, optimizer.epsilon))
            tracker.add(step, ref_net.get_weights(), _as_refnet(params))
        report.rows.extend(tracker.rows())
        report.rel_moved.update(tracker.rel_moved)
        if isinstance(optimizer, ropt.RMSprop):
            report.bounds[f"{source}/rmsprop_epsilon"] = bound
    if report.bounds:
        report.title += (
            "; RMSprop's epsilon inside (refnet) vs outside (torch) the square root: "
            f"denominators differ by <= {max(report.bounds.values()):.1e} relative"
        )
        if not report.ok:  # say why, so no one looks for a bug in refnet
            report.notes.append(
                f"RMSprop with epsilon={optimizer.epsilon:g}: Keras and refnet add epsilon "
                "inside the square root, torch outside, so the two rules differ by the "
                "bound above wherever v is small (entries with v = 0 included); that is "
                "the placement, not refnet. RMSprop(..., epsilon=1e-30) on both sides "
                'compares the rest of the rule (chapter 8 "Training")'
            )
    return report
