"""Training against torch.optim: the rows, the hyper-parameter mapping and its quirks.

Expected values come from torch (its optimizers run on the same weights and gradients)
or from one- and two-step hand derivations of torch's and Keras' update lines, quoted in
crosscheck/frameworks/torch/training.py. Each quirk test shows the difference exists (the naive
mapping fails, with its measured size) and that the stated conversion removes it.
Skipped without torch (pytest.importorskip); CI installs the CPU build.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import refnet
from refnet.optimizers import (
    SGD,
    Adam,
    ExponentialDecay,
    InverseTimeDecay,
    OneCycle,
    RMSprop,
)
from tests.conftest import importorskip_torch


@pytest.fixture
def torch():
    return importorskip_torch()


def _data():
    rng = np.random.default_rng(4)
    return rng.normal(size=(24, 6)), rng.integers(0, 3, size=24)


def _compare(optimizer, dtype="float64", **kwargs):
    from crosscheck.training import compare_training

    X, y = _data()
    net = refnet.Network.build([6, 8, 3], ["tanh", "linear"], seed=1, dtype=dtype)
    return compare_training(
        net,
        X,
        y,
        "softmax_cross_entropy",
        optimizer,
        steps=10,
        batch_size=8,
        oracle="torch",
        **kwargs,
    )


def _scalar_param(torch, value=0.0):
    return torch.nn.Parameter(torch.tensor([value], dtype=torch.float64))


def _torch_steps(torch, opt, p, grads, scheduler=None) -> list[float]:
    """Feed the gradients to ``opt`` one step each; the parameter after every step."""
    out = []
    for g in grads:
        p.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
        if scheduler is not None:
            scheduler.step()
        out.append(p.item())
    return out


def _refnet_steps(opt, grads) -> list[float]:
    """The same on refnet's side: a 1-1 linear net's bias b as the one parameter."""
    net = refnet.Network.build([1, 1], ["linear"], init="zeros")
    out = []
    for g in grads:
        opt.apply(net, [np.zeros((1, 1)), np.array([g])])
        out.append(float(net.layers[0].b[0]))
    return out


# --- the training rows (python -m crosscheck --oracle torch) ----------------------------------


def _cases():
    from crosscheck.training import training_cases

    return training_cases("torch")


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_training_rows_against_torch_pass(torch, case):
    """OPT1-OPT3, LR1-LR3 against torch.optim: every weight after every step within TOL1
    (grown by sqrt(steps)), both gradient sources. float64: within 1e-12 of the distance
    the weights moved (measured: <= 6e-15), as tight as the Keras rows with the mirror."""
    from crosscheck.training import compare_training

    case = dict(case)
    case.pop("name")
    report = compare_training(**case)
    assert report.ok, str(report)
    assert "against torch.optim" in report.title
    assert {r.name.split("/")[0] for r in report.rows} == {"update", "tape"}
    if case["net"].dtype == np.float64:
        assert report.worst_moved("update") <= 1e-12, str(report)
        assert report.worst_moved("tape") <= 1e-12, str(report)


@pytest.mark.parametrize(
    "loss, activations, make_y",
    [
        ("mse", ["relu", "linear"], lambda rng: rng.normal(size=(16, 3))),
        (
            "binary_cross_entropy",
            ["sigmoid", "linear"],
            lambda rng: rng.integers(0, 2, size=(16, 3)).astype(float),
        ),
        (
            "categorical_cross_entropy",
            ["tanh", "softmax"],
            lambda rng: rng.integers(0, 3, size=16),
        ),
        (
            "softmax_cross_entropy",
            ["gelu", "linear"],
            lambda rng: np.eye(3)[rng.integers(0, 3, size=16)],
        ),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tape_source_through_every_loss(torch, loss, activations, make_y, dtype):
    """The tape source runs torch's own loss (crosscheck.frameworks.torch.training.torch_loss) and
    autograd through to_torch(net): 10 Adam steps land on refnet's weights."""
    from crosscheck.training import compare_training

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(16, 5)), make_y(rng)
    net = refnet.Network.build([5, 7, 3], activations, seed=2, dtype=dtype)
    report = compare_training(
        net,
        X,
        Y,
        loss,
        Adam(0.01),
        steps=10,
        batch_size=8,
        gradients="tape",
        oracle="torch",
    )
    assert report.ok, str(report)


def test_torch_keeps_hyper_parameters_exact(torch):
    """torch's lr is a Python float used in float64 arithmetic: one SGD step of a float64
    parameter is w - 0.1 g exactly, not float32(0.1) as Keras' lr variable. So refnet's
    exact optimizer is compared with torch without any mirror."""
    p = _scalar_param(torch, 1.0)
    (w,) = _torch_steps(torch, torch.optim.SGD([p], lr=0.1), p, [3.0])
    assert w == pytest.approx(1.0 - 0.1 * 3.0, rel=1e-15, abs=0)  # an ulp (FMA or not)
    assert abs(w - (1.0 - float(np.float32(0.1)) * 3.0)) > 4e-9  # float32(0.1)'s error
    assert _refnet_steps(SGD(0.1), [3.0]) == [0.0 - 0.1 * 3.0]


@pytest.mark.parametrize(
    "make, impl",
    [
        (lambda: SGD(ExponentialDecay(0.1, 3, 0.5), 0.9, nesterov=True), "sgd"),
        (lambda: RMSprop(0.01, 0.8, 0.5, epsilon=1e-30, centered=True), "rmsprop"),
        (lambda: Adam(0.01, beta_2=0.99, amsgrad=True), "adam"),
    ],
    ids=["sgd", "rmsprop", "adam"],
)
def test_torch_multi_tensor_path_agrees_too(torch, monkeypatch, make, impl, inline):
    """On CPU torch takes its single-tensor loop (foreach=None -> False); GPUs default to
    the multi-tensor ``foreach`` kernels, a different code path with its own rounding.
    Forced here (and seen to run): the same mapping holds, float64 within 1e-12 of the
    distance moved."""
    import importlib

    import crosscheck.frameworks.torch.training as tt

    module = importlib.import_module(f"torch.optim.{impl}")
    calls = []
    multi = getattr(module, f"_multi_tensor_{impl}")
    monkeypatch.setattr(
        module,
        f"_multi_tensor_{impl}",
        lambda *a, **k: calls.append(1) or multi(*a, **k),
    )
    hyper = tt.torch_hyper
    monkeypatch.setattr(tt, "torch_hyper", lambda *a: hyper(*a) | {"foreach": True})
    report = _compare(make())
    assert len(calls) == 20  # 10 steps x 2 gradient sources
    assert report.ok, str(report)
    assert report.worst_moved() <= 1e-12, str(report)


# --- quirk: RMSprop's epsilon outside the square root -----------------------------------------


def test_rmsprop_epsilon_outside_the_square_root_one_step(torch):
    """First step from v = 0 with g = 1e-3, rho = 0.9, epsilon = 1e-7, lr = 0.01:
    v = 0.1 g^2 = 1e-7. torch: lr g / (sqrt(v) + eps); Keras / refnet: lr g / sqrt(v + eps).
    At this |g| (v = eps) torch's step is 1.414 times refnet's: no single torch eps is
    equal to Keras' for every v."""
    g, lr, eps = 1e-3, 0.01, 1e-7
    v = 0.1 * g**2
    p = _scalar_param(torch)
    (w_torch,) = _torch_steps(
        torch, torch.optim.RMSprop([p], lr, alpha=0.9, eps=eps), p, [g]
    )
    assert w_torch == pytest.approx(-lr * g / (math.sqrt(v) + eps), rel=1e-14)
    (w_refnet,) = _refnet_steps(RMSprop(lr, rho=0.9, epsilon=eps), [g])
    assert w_refnet == pytest.approx(-lr * g / math.sqrt(v + eps), rel=1e-14)
    assert w_torch / w_refnet == pytest.approx(1.414, abs=1e-3)


def test_rmsprop_same_epsilon_fails_and_negligible_epsilon_passes(torch):
    """The training rows with epsilon = 1e-7 on both sides (the same number) fail: measured
    1.1e-2 of the distance moved in float64, the size the bound e/(2v) + e/sqrt(v) predicts
    (1.2e-2 on this run). With epsilon = 1e-30 the bound is 1.2e-25 and the rows pass."""
    from crosscheck.frameworks.torch.training import RMSPROP_ROW_EPSILON

    same = _compare(RMSprop(0.01), gradients="update")
    assert not same.ok
    moved, bound = same.worst_moved("update"), same.bounds["update/rmsprop_epsilon"]
    assert 1e-3 < moved < 0.05, moved
    assert bound / 10 < moved < 10 * bound, (moved, bound)
    assert any("that is the placement, not refnet" in note for note in same.notes)
    tiny = _compare(RMSprop(0.01, epsilon=RMSPROP_ROW_EPSILON), gradients="update")
    assert tiny.ok, str(tiny)
    assert not tiny.notes
    assert tiny.bounds["update/rmsprop_epsilon"] < 1e-20
    assert tiny.worst_moved("update") <= 1e-12


# --- quirk: Adam's epsilon placement ------------------------------------------------------------


def test_adam_epsilon_is_torch_eps_times_sqrt_one_minus_beta2_power(torch):
    """First Adam step with g = 1e-5: m_hat = g, v_hat = g^2. torch: lr g / (|g| + eps);
    Keras / refnet: lr g / (|g| + epsilon / sqrt(1 - beta_2)), epsilon = 1e-7. The same
    number in torch takes a step 1.30 times refnet's; eps = 1e-7 / sqrt(1 - 0.999)
    (the conversion) gives refnet's step."""
    g, lr, eps, b2 = 1e-5, 0.01, 1e-7, 0.999
    (w_refnet,) = _refnet_steps(Adam(lr, epsilon=eps), [g])
    assert w_refnet == pytest.approx(-lr * g / (g + eps / math.sqrt(1 - b2)), rel=1e-12)
    p = _scalar_param(torch)
    (naive,) = _torch_steps(torch, torch.optim.Adam([p], lr, eps=eps), p, [g])
    assert naive == pytest.approx(-lr * g / (g + eps), rel=1e-12)
    assert naive / w_refnet == pytest.approx(1.3032, abs=1e-4)
    p = _scalar_param(torch)
    converted = torch.optim.Adam([p], lr, eps=eps / math.sqrt(1 - b2))
    assert _torch_steps(torch, converted, p, [g]) == pytest.approx(
        [w_refnet], rel=1e-14
    )


@pytest.mark.parametrize(
    "make, size",
    [
        (lambda: Adam(0.01), 4.7e-4),
        (lambda: Adam(0.01, beta_2=0.99, amsgrad=True), 1.4e-4),
    ],
    ids=["adam", "amsgrad"],
)
def test_adam_rows_need_the_per_step_epsilon(torch, make, size):
    """Without the conversion (torch eps = epsilon, constant) 10 steps differ by ~size of
    the distance moved (measured 4.7e-4 and 1.4e-4 in float64, and float32 fails too);
    with eps = epsilon / sqrt(1 - beta_2^t) before step t they agree to rounding."""
    for dtype in ("float64", "float32"):
        naive = _compare(make(), dtype, gradients="update", convert=False)
        assert not naive.ok
        assert size / 2 < naive.worst_moved("update") < 2 * size
        assert _compare(make(), dtype, gradients="update").ok


def test_amsgrad_takes_the_maximum_of_raw_second_moments(torch):
    """beta_1 = beta_2 = 0.9, g = 1 then 0.1: v1 = 0.1, v2 = 0.091 < v1. torch (and Keras)
    keep max(v) = 0.1 raw and divide by sqrt(1 - 0.9^2): the second step is
    lr (0.1 / 0.19) / (sqrt(0.1) / sqrt(0.19)); a maximum over the bias-corrected
    v / (1 - beta_2^t) (1 and 0.479) would make it lr (0.1 / 0.19) / 1, 27 % shorter."""
    lr, eps = 0.1, 1e-12
    p = _scalar_param(torch)
    opt = torch.optim.Adam([p], lr, betas=(0.9, 0.9), eps=eps, amsgrad=True)
    w1, w2 = _torch_steps(torch, opt, p, [1.0, 0.1])
    assert w1 == pytest.approx(-lr, rel=1e-10)
    raw = lr * (0.1 / 0.19) / (math.sqrt(0.1) / math.sqrt(0.19))
    corrected = lr * (0.1 / 0.19) / 1.0
    assert w2 - w1 == pytest.approx(-raw, rel=1e-10)
    assert abs(corrected / raw - 1) > 0.25
    r1, r2 = _refnet_steps(Adam(lr, 0.9, 0.9, epsilon=eps, amsgrad=True), [1.0, 0.1])
    assert [r1, r2] == pytest.approx([w1, w2], rel=1e-10)


# --- quirk: default epsilons and rates -----------------------------------------------------------


def test_torch_defaults_differ_from_keras(torch):
    """torch's eps defaults to 1e-8 (Keras and refnet: 1e-7); torch's RMSprop to lr 0.01 and
    alpha 0.99 (rho 0.9, lr 0.001); torch's SGD to lr 0.001 (0.01). Every one is passed
    explicitly by the mapping (torch_hyper)."""
    p = [_scalar_param(torch)]
    assert torch.optim.Adam(p).defaults["eps"] == 1e-8 != Adam().epsilon == 1e-7
    rms = torch.optim.RMSprop(p).defaults
    assert (rms["eps"], rms["lr"], rms["alpha"]) == (1e-8, 0.01, 0.99)
    assert (RMSprop().epsilon, RMSprop().learning_rate, RMSprop().rho) == (
        1e-7,
        0.001,
        0.9,
    )
    assert torch.optim.SGD(p).defaults["lr"] == 0.001 != SGD().learning_rate == 0.01

    from crosscheck.frameworks.torch.training import torch_hyper

    assert torch_hyper(Adam(), 1, convert=False)["eps"] == 1e-7
    assert torch_hyper(RMSprop(), 1) | {"lr": 0} == {
        "lr": 0,
        "alpha": 0.9,
        "eps": 1e-7,
        "momentum": 0.0,
        "centered": False,
    }


def test_torch_default_adam_against_refnet_default_adam(torch):
    """A user's torch.optim.Adam(params, lr=0.01) (eps 1e-8) against refnet's Adam(0.01)
    (Keras' epsilon 1e-7 inside alpha_t's scaling): 10 steps on the same gradients differ
    by 4.8e-4 of the distance moved (measured), the size of the epsilon quirks."""
    from crosscheck import to_torch

    X, y = _data()
    net = refnet.Network.build([6, 8, 3], ["tanh", "linear"], seed=1)
    w0 = net.get_weights()
    params = list(to_torch(net).parameters())
    t_opt, r_opt = torch.optim.Adam(params, lr=0.01), Adam(0.01)
    worst = 0.0
    for k in range(10):
        idx = np.arange(8 * k, 8 * k + 8) % 24
        res = net.gradients(X[idx], y[idx], "softmax_cross_entropy")
        for p, g in zip(params, res.grads()):
            p.grad = torch.from_numpy(np.ascontiguousarray(g.T if g.ndim == 2 else g))
        t_opt.step()
        r_opt.apply(net, res)
        for w, p, start in zip(net.get_weights(), params, w0):
            ref = p.detach().numpy()
            ref = ref.T if ref.ndim == 2 else ref
            worst = max(worst, np.abs(w - ref).max() / np.abs(ref - start).max())
    assert 2e-4 < worst < 1e-3, worst


# --- quirk: momentum under a changing learning rate ----------------------------------------------


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_under_a_schedule_needs_the_buffer_rescaled(torch, nesterov):
    """lr 0.1 then 0.05 (ExponentialDecay(0.1, 1, 0.5)), momentum 0.9, g = 1 twice.
    Keras / refnet: m1 = -0.1, m2 = 0.9 m1 - 0.05 = -0.14: w2 = -0.24 (nesterov: w1 = 0.9 m1
    - 0.1 = -0.19, w2 = w1 + 0.9 m2 - 0.05 = -0.366). torch: buf1 = 1, w1 = -0.1; buf2 =
    0.9 + 1, w2 = w1 - 0.05 buf2 = -0.195 (nesterov: -0.19, then -0.19 - 0.05 (1 + 0.9 buf2)
    = -0.3255). Rescaling torch's buffer by lr1 / lr2 = 2 before step 2 gives refnet's."""
    from crosscheck.frameworks.torch.training import TorchOptimizer

    keras = [-0.19, -0.366] if nesterov else [-0.1, -0.24]
    naive_torch = [-0.19, -0.3255] if nesterov else [-0.1, -0.195]
    opt = SGD(ExponentialDecay(0.1, 1, 0.5), momentum=0.9, nesterov=nesterov)
    assert _refnet_steps(opt, [1.0, 1.0]) == pytest.approx(keras, rel=1e-14)
    p = _scalar_param(torch)
    t = torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=nesterov)
    sched = torch.optim.lr_scheduler.ExponentialLR(t, 0.5)
    assert _torch_steps(torch, t, p, [1.0, 1.0], sched) == pytest.approx(naive_torch)
    for convert, want in [(True, keras), (False, naive_torch)]:
        p = _scalar_param(torch)
        wrapped = TorchOptimizer(
            SGD(ExponentialDecay(0.1, 1, 0.5), 0.9, nesterov), [p], convert
        )
        assert _torch_steps(torch, wrapped, p, [1.0, 1.0]) == pytest.approx(
            want, rel=1e-14
        )


def test_momentum_schedule_rows_fail_without_the_conversion(torch):
    """10 steps, ExponentialDecay(0.1, 3, 0.5), momentum 0.9: without the rescaling the
    weights end 0.79 of the distance moved apart (measured); with it, rounding."""
    opt = SGD(ExponentialDecay(0.1, 3, 0.5), momentum=0.9)
    naive = _compare(opt, gradients="update", convert=False)
    assert not naive.ok and naive.worst_moved("update") > 0.1
    assert _compare(opt, gradients="update").worst_moved("update") <= 1e-12


@pytest.mark.parametrize("staircase", [False, True], ids=["ExponentialLR", "StepLR"])
@pytest.mark.parametrize(
    "make",
    [
        lambda lr: SGD(lr, momentum=0.9, nesterov=True),
        lambda lr: RMSprop(lr, momentum=0.5, epsilon=1e-30),
        lambda lr: Adam(lr),
    ],
    ids=["sgd", "rmsprop", "adam"],
)
def test_lr1_schedules_map_to_torch_schedulers(torch, make, staircase):
    """LR1: ExponentialDecay(0.02, 3, 0.5) is torch's ExponentialLR(0.5 ** (1/3)),
    staircase=True its StepLR(3, 0.5), stepped after each step; float64 rows agree to
    1e-12 of the distance moved (momentum buffers rescaled where the rate drops)."""
    report = _compare(make(ExponentialDecay(0.02, 3, 0.5, staircase=staircase)))
    assert report.ok, str(report)
    assert report.worst_moved() <= 1e-12, str(report)


@pytest.mark.parametrize(
    "schedule",
    [
        InverseTimeDecay(0.02, 3, 0.5),
        InverseTimeDecay(0.02, 2, 1.0, staircase=True, power=2.0),
        OneCycle(0.05, 10),
        OneCycle(0.05, 10, 0.25, "linear", three_phase=True),
    ],
    ids=repr,
)
def test_lr2_lr3_schedulers_give_refnets_rates(torch, schedule):
    """LR2 through LambdaLR (1 / (1 + r p)^c times the initial rate: equal to rounding),
    LR3 through OneCycleLR(cycle_momentum=False): the rate of every step, exactly."""
    from crosscheck.frameworks.torch.training import TorchOptimizer

    p = _scalar_param(torch)
    wrapped = TorchOptimizer(SGD(schedule), [p])
    for t in range(14):
        got = wrapped.opt.param_groups[0]["lr"]
        if isinstance(schedule, OneCycle):
            assert got == schedule(t), t  # held at step 9 from step 10 on
        else:
            assert got == pytest.approx(schedule(t), rel=1e-15), t
        p.grad = torch.ones(1, dtype=torch.float64)
        wrapped.step()


def test_lr3_rows_run_past_the_cycle(torch):
    """LR3: 13 steps of a 10-step cycle. torch's OneCycleLR would raise at step 11; the
    mapping holds its rate from step 9 on, refnet's rule, and the weights still agree."""
    opt = SGD(OneCycle(0.1, 10), momentum=0.9)
    from crosscheck.training import compare_training

    X, y = _data()
    net = refnet.Network.build([6, 8, 3], ["tanh", "linear"], seed=1)
    report = compare_training(
        net, X, y, "softmax_cross_entropy", opt, steps=13, batch_size=8, oracle="torch"
    )
    assert report.ok and report.worst_moved() <= 1e-12, str(report)


def test_torch_one_cycle_divides_zero_by_zero_where_refnet_refuses(torch):
    """pct_start * total_steps = 1 puts torch's warm-up end at step 0: its first rate is
    0 / 0. refnet refuses the cycle, naming pct_start."""
    p = _scalar_param(torch)
    opt = torch.optim.SGD([p], lr=1.0)
    with pytest.raises(ZeroDivisionError):
        torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10, pct_start=0.1)
    with pytest.raises(ValueError, match="pct_start"):
        OneCycle(0.1, 10, pct_start=0.1)


def test_one_cycle_lr_default_cycles_momentum(torch):
    """torch's OneCycleLR default (cycle_momentum=True) also sets SGD's momentum, 0.95 at
    the start, even for SGD(momentum=0): the weights then leave refnet's. The mapping's
    cycle_momentum=False keeps SGD plain (test_lr2_lr3_... and the rows)."""
    grads = [1.0, 1.0, 1.0]
    ours = _refnet_steps(SGD(OneCycle(0.1, 10)), grads)
    p = _scalar_param(torch)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)
    assert opt.param_groups[0]["momentum"] == 0.95
    theirs = _torch_steps(torch, opt, p, grads, sched)
    assert theirs[0] == pytest.approx(ours[0], rel=1e-15)  # no momentum yet at step 1
    assert abs(theirs[2] - ours[2]) > 0.1 * abs(ours[2])


def test_lr3_scheduler_leaves_momentum_alone(torch):
    """The mapped OneCycleLR changes only the rate: a torch SGD(momentum=0) or Adam keeps
    its momentum and beta_1 at every step (torch's default would set 0.95, then lower
    it). TorchOptimizer also re-sets them before each step; this checks the scheduler
    itself."""
    from crosscheck.frameworks.torch.training import torch_scheduler

    p = _scalar_param(torch)
    for opt, key, want in [
        (torch.optim.SGD([p], lr=0.1, momentum=0.0), "momentum", 0.0),
        (torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999)), "betas", (0.9, 0.999)),
    ]:
        sched = torch_scheduler(OneCycle(0.1, 10), opt)
        for _ in range(9):
            assert opt.param_groups[0][key] == want
            p.grad = torch.ones(1, dtype=torch.float64)
            opt.step()
            sched.step()


def test_nesterov_without_momentum_is_plain_sgd(torch):
    """Keras ignores nesterov=True when momentum = 0; torch refuses it, so the mapping
    passes nesterov=False there."""
    report = _compare(SGD(0.1, momentum=0.0, nesterov=True), gradients="update")
    assert report.ok and report.worst_moved() <= 1e-12, str(report)


# --- the API -----------------------------------------------------------------------------------


def test_training_matrix_labels_each_oracle():
    from crosscheck.training import training_matrix

    labels = [label for label, _ in training_matrix(("tf", "torch"))]
    assert sum(label.endswith("(tf)") for label in labels) == 22
    assert sum(label.endswith("(torch)") for label in labels) == 26
    assert [label for label, _ in training_matrix("torch")] == labels[22:]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"oracle": "mxnet"},
            ValueError,
            r"oracle: expected one of \['tf', 'torch', 'jax'\] \(the frameworks with a training slot\), got 'mxnet'",
        ),
        ({"optimizer": SGD(lambda step: 0.1)}, ValueError, "optimizer: only constant"),
    ],
)
def test_compare_training_torch_arguments_are_named(torch, kwargs, error, match):
    from crosscheck.training import compare_training

    net = refnet.Network.build([3, 4, 2], seed=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    args = {"optimizer": SGD(0.1), "steps": 2, "oracle": "torch"} | kwargs
    with pytest.raises(error, match=match):
        compare_training(net, X, np.zeros((6, 2)), "mse", **args)


def test_training_cases_refuse_an_unknown_oracle():
    from crosscheck.training import training_cases

    with pytest.raises(
        ValueError,
        match=r"oracle: expected one of \['tf', 'torch', 'jax'\] \(the frameworks with a training slot\), got 'mxnet'",
    ):
        training_cases("mxnet")


def test_without_torch_the_torch_oracle_says_how_to_install(monkeypatch, inline):
    """torch absent (simulated): ImportError naming the extra, as the TF side does."""
    from crosscheck.training import compare_training

    monkeypatch.setitem(sys.modules, "torch", None)
    net = refnet.Network.build([3, 4, 2], seed=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(
        ImportError,
        match=r"pip install torch --index-url https://download.pytorch.org/whl/cpu",
    ):
        compare_training(net, X, np.zeros((6, 2)), "mse", SGD(0.1), 2, oracle="torch")


@pytest.mark.parametrize("oracle", ["tf", "torch"])
def test_training_rows_name_the_weights_of_a_net_without_some_biases(oracle):
    """Rows are named after the weights: no b1 for a first layer without bias."""
    if oracle == "torch":
        importorskip_torch()
    else:
        pytest.importorskip("tensorflow")
    import crosscheck

    net = refnet.Network.build(
        [5, 8, 3], ["tanh", "linear"], seed=0, use_bias=[False, True]
    )
    X = np.random.default_rng(0).normal(size=(8, 5))
    y = np.arange(8) % 3
    report = crosscheck.compare_training(
        net,
        X,
        y,
        "softmax_cross_entropy",
        refnet.optimizers.Adam(0.01),
        steps=3,
        oracle=oracle,
    )
    assert report.ok, str(report)
    shapes = {r.name.split("/")[1]: tuple(r.shape) for r in report.rows}
    assert shapes == {"W1": (5, 8), "W2": (8, 3), "b2": (3,)}
