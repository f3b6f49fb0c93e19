"""Optimizers (GD1, OPT1 SGD, OPT2 RMSprop, OPT3 Adam) and schedules (LR1 ExponentialDecay,
LR2 InverseTimeDecay, LR3 OneCycle).

Expected values come from the update equations evaluated with plain Python floats in
the test (written from Keras 3's sources, keras/src/optimizers/*.py), and from Keras
itself: ``crosscheck.training.compare_training`` runs the same steps through
``keras.optimizers.X.apply_gradients``. The schedules are checked against values worked
by hand, Keras' InverseTimeDecay, and torch's OneCycleLR (learning rates bit for bit).
"""

from __future__ import annotations

import copy
import math
import pickle

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

# Gradients fed to a 2-1 network for three steps: [dW1 (2, 1), db1 (1,)] per step.
GRADS = [
    ([0.5, -1.5], 0.25),
    ([-0.2, 2.0], -1.0),
    ([1.0, 0.0], 0.5),
]
W0, B0 = [0.3, -0.7], 0.1


def _net(dtype="float64"):
    net = refnet.Network.build([2, 1], ["linear"], dtype=dtype)
    net.set_weights([np.array([[W0[0]], [W0[1]]]), np.array([B0])])
    return net


def _run(opt, dtype="float64"):
    """Apply the three GRADS steps; return the weights [w_a, w_b, b] after each."""
    net = _net(dtype)
    out = []
    for gw, gb in GRADS:
        opt.apply(
            net, [np.array(gw, dtype=dtype)[:, None], np.array([gb], dtype=dtype)]
        )
        W, b = net.get_weights()
        out.append([W[0, 0], W[1, 0], b[0]])
    return out


def _by_hand(step):
    """Run ``step(i, p, g, state)`` (scalar Python floats) over GRADS for each parameter."""
    params = [W0[0], W0[1], B0]
    states = [{} for _ in params]
    out = []
    for t, (gw, gb) in enumerate(GRADS, start=1):
        grads = [gw[0], gw[1], gb]
        params = [step(t, p, g, s) for p, g, s in zip(params, grads, states)]
        out.append(list(params))
    return out


def _assert_steps(got, want, rtol=1e-15):
    for t, (g_row, w_row) in enumerate(zip(got, want), start=1):
        for g, w in zip(g_row, w_row):
            assert abs(g - w) <= rtol * max(abs(w), 1.0), (
                f"step {t}: got {g_row}, expected {w_row}"
            )


# --- hand-derived steps --------------------------------------------------------------


def test_gd1_plain_step_is_w_minus_lr_g():
    """GD1: w' = w - lr g."""
    want = _by_hand(lambda t, p, g, s: p - 0.1 * g)
    _assert_steps(_run(SGD(learning_rate=0.1)), want)


@pytest.mark.parametrize("nesterov", [False, True])
def test_opt1_sgd_momentum_by_hand(nesterov):
    """OPT1: m' = mu m - lr g; w' = w + m' (nesterov: w' = w + mu m' - lr g)."""
    lr, mu = 0.05, 0.9

    def step(t, p, g, s):
        s["m"] = mu * s.get("m", 0.0) - lr * g
        return p + (mu * s["m"] - lr * g if nesterov else s["m"])

    _assert_steps(_run(SGD(lr, momentum=mu, nesterov=nesterov)), _by_hand(step))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"momentum": 0.5},
        {"centered": True},
        {"rho": 0.7, "momentum": 0.3, "centered": True},
    ],
)
def test_opt2_rmsprop_by_hand(kwargs):
    """OPT2: v' = rho v + (1 - rho) g^2; w' = w - lr g / sqrt(v' [- mg'^2] + eps) (+ momentum)."""
    lr, eps = 0.01, 1e-7
    rho = kwargs.get("rho", 0.9)
    mu = kwargs.get("momentum", 0.0)
    centered = kwargs.get("centered", False)

    def step(t, p, g, s):
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
        D = s["v"] + eps
        if centered:
            s["mg"] = rho * s.get("mg", 0.0) + (1 - rho) * g
            D = s["v"] - s["mg"] ** 2 + eps
        inc = lr * g / math.sqrt(D)
        if mu > 0:
            s["s"] = mu * s.get("s", 0.0) + inc
            return p - s["s"]
        return p - inc

    _assert_steps(_run(RMSprop(lr, **kwargs)), _by_hand(step), rtol=1e-14)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_opt3_adam_by_hand(amsgrad):
    """OPT3: m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g^2; w' = w - lr sqrt(1-b2^t)/(1-b1^t) m'/(sqrt(v')+eps)."""
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7

    def step(t, p, g, s):
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        v = s["v"]
        if amsgrad:
            s["vhat"] = max(s.get("vhat", 0.0), s["v"])
            v = s["vhat"]
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        return p - alpha * s["m"] / (math.sqrt(v) + eps)

    _assert_steps(_run(Adam(lr, amsgrad=amsgrad)), _by_hand(step), rtol=1e-14)


def test_adam_first_step_moves_each_weight_by_lr():
    """OPT3 at t = 1: alpha m'/sqrt(v') = lr sign(g), so |w' - w| = lr (eps shifts it by ~eps / (0.03 |g|))."""
    got = _run(Adam(0.01))[0]
    for p0, p1, g in zip([W0[0], W0[1], B0], got, [*GRADS[0][0], GRADS[0][1]]):
        assert p1 - p0 == pytest.approx(-0.01 * math.copysign(1, g), rel=1e-4)


# --- learning-rate schedules ----------------------------------------------------------


def test_lr1_exponential_decay_values():
    """LR1: lr(step) = lr0 * rate^(step / decay_steps); staircase floors the exponent."""
    smooth = ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)
    stairs = ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5, staircase=True)
    assert smooth(0) == 0.1
    assert smooth(2) == pytest.approx(0.1 * 0.5**0.5, rel=1e-15)
    assert smooth(8) == pytest.approx(0.025, rel=1e-15)
    assert [stairs(s) for s in (0, 3, 4, 7, 8)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025]
    )


def test_lr1_schedule_is_evaluated_at_iterations():
    """The k-th step (k = 0, 1, ...) uses lr(k), as Keras' optimizer.iterations."""
    schedule = ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    want = _by_hand(lambda t, p, g, s: p - 0.1 * 0.5 ** (t - 1) * g)
    opt = SGD(schedule)
    _assert_steps(_run(opt), want)
    assert opt.iterations == 3
    assert opt.current_learning_rate() == pytest.approx(0.0125)


def test_lr1_matches_keras_schedule():
    """LR1 against keras.optimizers.schedules.ExponentialDecay (float32 there)."""
    pytest.importorskip("tensorflow")
    import keras

    for staircase in (False, True):
        ours = ExponentialDecay(0.02, 3, 0.7, staircase=staircase)
        theirs = keras.optimizers.schedules.ExponentialDecay(
            0.02, 3, 0.7, staircase=staircase
        )
        for step in range(12):
            assert ours(step) == pytest.approx(float(theirs(step)), rel=3e-7)


def test_lr2_inverse_time_decay_values():
    """LR2: lr(step) = lr0 / (1 + r step / T)^c, worked by hand; staircase floors step / T."""
    smooth = InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)
    assert [smooth(s) for s in (0, 10, 30)] == [0.1, 0.05, 0.025]
    slow = InverseTimeDecay(0.1, 4, 0.5)
    assert slow(2) == pytest.approx(0.08, rel=1e-15)  # 0.1 / (1 + 0.5 * 2 / 4)
    stairs = InverseTimeDecay(0.1, 10, 1.0, staircase=True)
    assert [stairs(s) for s in (0, 9, 10, 19, 20)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.1 / 3], rel=1e-15
    )
    assert InverseTimeDecay(0.1, 10, 1.0, power=2.0)(10) == pytest.approx(0.025)
    assert InverseTimeDecay(0.1, 10, 1.0, power=0.5)(30) == pytest.approx(0.05)
    assert InverseTimeDecay(0.1, 10, 0.0)(1000) == 0.1  # rate 0: constant


@pytest.mark.parametrize("c", [0.5, 1.0, 2.0])
def test_lr2_is_power_scheduling_with_s_and_c(c):
    """LR2: the power schedule eta_0 / (1 + t / s)^c of tutorial 0 is
    InverseTimeDecay(eta_0, decay_steps=s, decay_rate=1, power=c); c = 1 is Keras' own."""
    eta_0, s = 0.05, 7
    schedule = InverseTimeDecay(eta_0, decay_steps=s, decay_rate=1.0, power=c)
    for t in range(0, 60, 3):
        assert schedule(t) == pytest.approx(eta_0 / (1 + t / s) ** c, rel=1e-15)


def test_lr2_matches_keras_inverse_time_decay():
    """LR2 (power 1) against keras.optimizers.schedules.InverseTimeDecay (float32 there)."""
    pytest.importorskip("tensorflow")
    import keras

    for staircase in (False, True):
        ours = InverseTimeDecay(0.02, 3, 0.7, staircase=staircase)
        theirs = keras.optimizers.schedules.InverseTimeDecay(
            0.02, 3, 0.7, staircase=staircase
        )
        for step in range(12):
            assert ours(step) == pytest.approx(float(theirs(step)), rel=3e-7)


def test_lr3_one_cycle_values_by_hand():
    """LR3, OneCycle(0.1, 10): eta_0 = 0.1 / 25 = 0.004, eta_min = 4e-7, t_1 = 0.3 * 10 - 1
    = 2. Cos: step 1 is half way up, (0.004 + 0.1) / 2 = 0.052; step 3 is 1/7 of the way
    down, 4e-7 + (0.1 - 4e-7)(1 + cos(pi / 7)) / 2. Linear: step 5 is 3/7 of the way down.
    Past the cycle the rate holds its last value, eta_min."""
    cos = OneCycle(0.1, total_steps=10)
    low = 4e-7
    want = [0.004, 0.052, 0.1, low + (0.1 - low) * (1 + math.cos(math.pi / 7)) / 2]
    assert [cos(t) for t in range(4)] == pytest.approx(want, rel=1e-14)
    assert [cos(t) for t in (9, 10, 11, 1000)] == pytest.approx([low] * 4, rel=1e-14)
    linear = OneCycle(0.1, 10, anneal_strategy="linear")
    assert linear(1) == pytest.approx(0.052, rel=1e-14)
    assert linear(5) == pytest.approx(0.1 - (0.1 - low) * 3 / 7, rel=1e-14)


def test_lr3_three_phases_by_hand():
    """LR3, three_phase: OneCycle(0.1, 10, pct_start=0.25, linear): t_1 = 1.5, t_2 = 2 *
    2.5 - 2 = 3, last step 9. Up 0.004 -> 0.1 over [0, 1.5], back to 0.004 over [1.5, 3],
    down to 4e-7 over [3, 9]: steps 0..3 are 0.004, 0.068, 0.068, 0.004; step 6 half way
    down the third phase, (0.004 + 4e-7) / 2."""
    s = OneCycle(0.1, 10, pct_start=0.25, anneal_strategy="linear", three_phase=True)
    want = [0.004, 0.068, 0.068, 0.004]
    assert [s(t) for t in range(4)] == pytest.approx(want, rel=1e-14)
    assert s(6) == pytest.approx(0.0020002, rel=1e-14)
    assert s(9) == pytest.approx(4e-7, rel=1e-14)


def _torch_one_cycle_rates(torch, steps, **kwargs) -> list[float]:
    """The learning rate torch's OneCycleLR gives each of ``steps`` optimizer steps."""
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cycle_momentum=False, **kwargs)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return rates


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_lr3_one_cycle_is_torch_one_cycle_lr_bit_for_bit(anneal, three_phase):
    """LR3 against torch.optim.lr_scheduler.OneCycleLR(cycle_momentum=False): the same
    learning rate at every step of the cycle, exactly, over a grid of lengths and
    pct_start (the grid's cycles whose warm-up lasts no more than one step excepted)."""
    from tests.conftest import importorskip_torch

    torch = importorskip_torch()
    checked = 0
    for T in (3, 7, 10, 11, 37, 100):
        for pct in (0.1, 0.25, 0.3, 0.45, 0.7):
            args = dict(pct_start=pct, anneal_strategy=anneal, three_phase=three_phase)
            args |= dict(div_factor=10.0, final_div_factor=100.0)
            try:
                ours = OneCycle(0.3, T, **args)
            except ValueError:
                continue  # an empty phase: refused (test_one_cycle_refuses_...)
            want = _torch_one_cycle_rates(torch, T, max_lr=0.3, total_steps=T, **args)
            assert [ours(t) for t in range(T)] == want, (T, pct)
            checked += 1
    assert checked >= 12


def test_lr3_past_the_cycle_holds_where_torch_raises():
    """Past total_steps torch's OneCycleLR extrapolates (step T) and then raises (step
    T + 1); refnet holds the last rate of the cycle (its documented choice)."""
    from tests.conftest import importorskip_torch

    torch = importorskip_torch()
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, 0.1, total_steps=10, anneal_strategy="linear", cycle_momentum=False
    )
    for _ in range(10):
        opt.step()
        sched.step()
    extrapolated = opt.param_groups[0]["lr"]  # step 10: beyond eta_min, below zero
    assert extrapolated < 0
    opt.step()
    with pytest.raises(ValueError, match="total steps is 10"):
        sched.step()
    ours = OneCycle(0.1, 10, anneal_strategy="linear")
    assert ours(10) == ours(50) == ours(9) > 0


def test_one_cycle_refuses_an_empty_phase():
    """Torch divides 0 / 0 when pct_start * total_steps = 1 (ZeroDivisionError at step
    0) and skips the warm-up below it; refnet names pct_start instead."""
    with pytest.raises(ValueError, match=r"pct_start: .*pct_start \* total_steps > 1"):
        OneCycle(0.1, 10, pct_start=0.1)
    with pytest.raises(ValueError, match="pct_start"):
        OneCycle(0.1, 3)  # 0.3 * 3 = 0.9
    with pytest.raises(ValueError, match="three_phase=True"):
        OneCycle(0.1, 10, pct_start=0.55, three_phase=True)  # t_2 = 9: no third phase
    OneCycle(0.1, 10, pct_start=0.5, three_phase=True)  # t_2 = 8 < 9


def test_schedules_drive_sgd_at_iterations():
    """LR2, LR3: the k-th step (k = 0, 1, ...) uses lr(k), as for LR1."""
    for schedule in (InverseTimeDecay(0.1, 1, 1.0, power=2.0), OneCycle(0.1, 4, 0.5)):
        want = _by_hand(lambda t, p, g, s, f=schedule: p - f(t - 1) * g)
        _assert_steps(_run(SGD(schedule)), want)


def test_schedules_copy_and_pickle_with_the_optimizer():
    """An optimizer holding LR2 or LR3 continues after pickling exactly where it was:
    two fit epochs equal one epoch, a pickle round trip of the optimizer, and one more."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 3)), rng.integers(0, 2, size=12)
    for make in (
        lambda: SGD(OneCycle(0.5, 6, anneal_strategy="linear"), momentum=0.9),
        lambda: Adam(InverseTimeDecay(0.05, 2, 1.0, staircase=True, power=1.5)),
    ):
        a = refnet.Network.build([3, 4, 2], seed=0)
        b = copy.deepcopy(a)
        fit = dict(loss="softmax_cross_entropy", batch_size=4, shuffle=False)
        a.fit(X, y, optimizer=make(), epochs=2, progress=False, **fit)
        opt = make()
        b.fit(X, y, optimizer=opt, epochs=1, progress=False, **fit)
        again = pickle.loads(pickle.dumps(opt))
        assert again.iterations == 3 and repr(again.learning_rate) == repr(
            opt.learning_rate
        )
        b.fit(X, y, optimizer=again, epochs=1, progress=False, **fit)
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(wa, wb)


# --- state and dtype -------------------------------------------------------------------


@pytest.mark.parametrize(
    "opt, slots",
    [
        (SGD(), []),
        (SGD(momentum=0.9), ["momentum"]),
        (RMSprop(), ["velocity"]),
        (
            RMSprop(momentum=0.5, centered=True),
            ["velocity", "momentum", "average_gradient"],
        ),
        (Adam(), ["momentum", "velocity"]),
        (Adam(amsgrad=True), ["momentum", "velocity", "velocity_hat"]),
    ],
)
def test_state_is_inspectable(opt, slots):
    """Slots as Keras names them, one array per weight [W1, b1, ...], zero before step 1."""
    net = refnet.Network.build([3, 4, 2], seed=0)
    assert opt.iterations == 0
    opt.apply(net, net.gradients(np.ones((2, 3)), [0, 1], "softmax_cross_entropy"))
    assert opt.iterations == 1
    assert list(opt.state) == slots
    for name in slots:
        assert [a.shape for a in opt.state[name]] == [
            w.shape for w in net.get_weights()
        ]


def test_adam_state_after_one_step_by_hand():
    """After step 1: m = (1 - beta_1) g, v = (1 - beta_2) g^2."""
    opt = Adam()
    _run_one = _net()
    g = [np.array([[0.5], [-1.5]]), np.array([0.25])]
    opt.apply(_run_one, g)
    np.testing.assert_allclose(opt.state["momentum"][0], 0.1 * g[0], rtol=1e-15)
    np.testing.assert_allclose(opt.state["velocity"][1], 0.001 * g[1] ** 2, rtol=1e-15)


@pytest.mark.parametrize(
    "make",
    [
        SGD,
        lambda: SGD(momentum=0.9, nesterov=True),
        RMSprop,
        lambda: RMSprop(momentum=0.5, centered=True),
        Adam,
        lambda: Adam(amsgrad=True),
    ],
)
def test_float32_weights_stay_float32(make):
    """No upcasts: weights and slots keep the net's float32 dtype, in place."""
    net = refnet.Network.build([3, 4, 2], seed=0, dtype="float32")
    W = net.layers[0].W
    opt = make()
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    for _ in range(3):
        opt.apply(net, net.gradients(X, [0, 1, 1, 0, 1], "softmax_cross_entropy"))
    assert net.layers[0].W is W  # updated in place
    assert all(w.dtype == np.float32 for w in net.get_weights())
    assert all(a.dtype == np.float32 for arrays in opt.state.values() for a in arrays)


def test_float32_step_close_to_float64_step():
    """The same steps in float32 track float64 to float32 rounding."""
    for opt32, opt64 in [
        (Adam(0.01), Adam(0.01)),
        (RMSprop(0.01, centered=True), RMSprop(0.01, centered=True)),
    ]:
        got = np.array(_run(opt32, "float32"), dtype=np.float64)
        want = np.array(_run(opt64, "float64"))
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: SGD(learning_rate=0), "learning_rate"),
        (lambda: SGD(learning_rate=-0.1), "learning_rate"),
        (lambda: SGD(learning_rate=float("nan")), "learning_rate"),
        (lambda: SGD(learning_rate="0.1"), "learning_rate"),
        (lambda: SGD(momentum=1.5), "momentum"),
        (lambda: SGD(momentum=-0.1), "momentum"),
        (lambda: SGD(nesterov="yes"), "nesterov"),
        (lambda: RMSprop(rho=1.0), "rho"),
        (lambda: RMSprop(epsilon=0), "epsilon"),
        (lambda: RMSprop(centered=1), "centered"),
        (lambda: Adam(beta_1=1.0), "beta_1"),
        (lambda: Adam(beta_2=-0.5), "beta_2"),
        (lambda: Adam(epsilon=-1e-7), "epsilon"),
        (lambda: Adam(amsgrad=None), "amsgrad"),
        (lambda: ExponentialDecay(0.1, 0, 0.5), "decay_steps"),
        (lambda: ExponentialDecay(0.1, 10, 0.0), "decay_rate"),
        (lambda: ExponentialDecay(-1, 10, 0.5), "initial_learning_rate"),
        (lambda: InverseTimeDecay(0.1, 0, 0.5), "decay_steps"),
        (lambda: InverseTimeDecay(0.1, "10", 0.5), "decay_steps"),
        (lambda: InverseTimeDecay(0.1, 10, -0.5), "decay_rate"),
        (lambda: InverseTimeDecay(0.0, 10, 0.5), "initial_learning_rate"),
        (lambda: InverseTimeDecay(0.1, 10, 0.5, staircase=1), "staircase"),
        (lambda: InverseTimeDecay(0.1, 10, 0.5, power=0), "power"),
        (lambda: OneCycle(0.0, 10), "max_learning_rate"),
        (lambda: OneCycle(0.1, 0), "total_steps"),
        (lambda: OneCycle(0.1, 10.0), "total_steps"),
        (lambda: OneCycle(0.1, 10, pct_start=1.0), "pct_start"),
        (lambda: OneCycle(0.1, 10, pct_start="0.3"), "pct_start"),
        (lambda: OneCycle(0.1, 10, anneal_strategy="cosine"), "anneal_strategy"),
        (lambda: OneCycle(0.1, 10, div_factor=0), "div_factor"),
        (lambda: OneCycle(0.1, 10, final_div_factor=-1e4), "final_div_factor"),
        (lambda: OneCycle(0.1, 10, three_phase="no"), "three_phase"),
        (lambda: refnet.optimizers.get("adagrad"), "optimizer"),
    ],
)
def test_bad_hyper_parameters_name_the_argument(make, name):
    with pytest.raises((ValueError, TypeError), match=name):
        make()


def test_a_wrong_type_is_a_type_error_and_a_wrong_value_a_value_error():
    with pytest.raises(
        TypeError, match="anneal_strategy: expected 'cos' or 'linear', got list"
    ):
        OneCycle(0.1, 10, anneal_strategy=["cos"])
    with pytest.raises(
        ValueError, match="anneal_strategy: expected 'cos' or 'linear', got 'cosine'"
    ):
        OneCycle(0.1, 10, anneal_strategy="cosine")


def test_apply_rejects_wrong_gradients():
    net = refnet.Network.build([3, 4, 2], seed=0)
    opt = SGD()
    with pytest.raises(ValueError, match=r"res: expected 4 gradients"):
        opt.apply(net, [np.zeros((3, 4))])
    with pytest.raises(ValueError, match=r"dW2 of shape \(4, 2\)"):
        opt.apply(net, [np.zeros((3, 4)), np.zeros(4), np.zeros((2, 4)), np.zeros(2)])
    bad = [np.zeros((3, 4)), np.zeros(4), np.zeros((4, 2)), np.array([np.nan, 0.0])]
    with pytest.raises(ValueError, match="db2 contains NaN"):
        opt.apply(net, bad)
    with pytest.raises(TypeError, match="res"):
        opt.apply(net, 3.0)
    assert opt.iterations == 0  # nothing was applied


def test_optimizer_state_is_tied_to_shapes():
    """An optimizer with state refuses a network of different shapes."""
    opt = Adam()
    net = refnet.Network.build([3, 4, 2], seed=0)
    opt.apply(net, net.gradients(np.ones((1, 3)), [1], "softmax_cross_entropy"))
    other = refnet.Network.build([3, 5, 2], seed=0)
    with pytest.raises(
        ValueError, match="optimizer: this Adam holds the state of another"
    ):
        opt.apply(other, other.gradients(np.ones((1, 3)), [1], "softmax_cross_entropy"))


def _grads(net):
    return net.gradients(np.ones((2, 3)), [1, 0], "softmax_cross_entropy")


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), Adam, RMSprop])
def test_one_optimizer_refuses_a_second_network_of_the_same_shape(make):
    """W8: the second network would start from the first one's moments and t."""
    opt = make()
    first = refnet.Network.build([3, 4, 2], seed=0)
    opt.apply(first, _grads(first))
    second = refnet.Network.build([3, 4, 2], seed=1)
    before = second.get_weights()
    with pytest.raises(ValueError, match=r"optimizer: .* another network \(1 steps"):
        opt.apply(second, _grads(second))
    with pytest.raises(ValueError, match="optimizer: .* another network"):
        second.fit(
            np.ones((4, 3)),
            [0, 1, 0, 1],
            "softmax_cross_entropy",
            opt,
            epochs=1,
            batch_size=2,
            progress=False,
        )
    assert all(np.array_equal(a, b) for a, b in zip(before, second.get_weights()))
    assert opt.iterations == 1  # nothing was applied to the second network
    opt.apply(first, _grads(first))  # its own network still trains
    assert opt.iterations == 2


def test_rebinding_the_name_does_not_adopt_a_dead_networks_state():
    """``net = build(...)`` in a loop drops the old network; its state stays refused."""
    opt = Adam()
    net = refnet.Network.build([3, 4, 2], seed=0)
    opt.apply(net, _grads(net))
    net = refnet.Network.build([3, 4, 2], seed=0)  # the first one is garbage now
    with pytest.raises(ValueError, match="another network"):
        opt.apply(net, _grads(net))


def test_a_copy_of_the_trained_network_continues_with_the_state():
    """Exactly the weights the optimizer last updated: the same network, continued."""
    import copy

    net = refnet.Network.build([3, 4, 2], seed=0)
    opt = Adam(0.01)
    opt.apply(net, _grads(net))
    twin = copy.deepcopy(net)
    opt.apply(twin, _grads(twin))  # takes over: now the twin is the optimizer's network
    with pytest.raises(ValueError, match="another network"):
        opt.apply(net, _grads(net))  # one step behind the twin: not the same weights


def test_a_copied_optimizer_is_unbound_and_resuming_is_allowed():
    import copy

    net = refnet.Network.build([3, 4, 2], seed=0)
    opt = Adam(0.01)
    opt.apply(net, _grads(net))
    net2, opt2 = copy.deepcopy((net, opt))  # copied together: the copy trains the copy
    opt2.apply(net2, _grads(net2))
    opt.apply(net, _grads(net))
    assert all(
        np.array_equal(a, b) for a, b in zip(net.get_weights(), net2.get_weights())
    )
    other = refnet.Network.build([3, 4, 2], seed=3)
    # a copy alone binds on its first step
    copy.deepcopy(opt).apply(other, _grads(other))


# --- against Keras ----------------------------------------------------------------------------

KERAS_CASES = [
    ("SGD", lambda: SGD(0.1)),
    ("SGD momentum", lambda: SGD(0.05, momentum=0.9)),
    ("SGD nesterov", lambda: SGD(0.05, momentum=0.8, nesterov=True)),
    ("RMSprop", lambda: RMSprop(0.01)),
    ("RMSprop momentum", lambda: RMSprop(0.005, rho=0.8, momentum=0.5)),
    ("RMSprop centered momentum", lambda: RMSprop(0.01, momentum=0.9, centered=True)),
    ("Adam", lambda: Adam(0.01)),
    ("Adam betas", lambda: Adam(0.003, beta_1=0.8, beta_2=0.95, epsilon=1e-5)),
    ("Adam amsgrad", lambda: Adam(0.01, amsgrad=True)),
    ("Adam ExponentialDecay", lambda: Adam(ExponentialDecay(0.02, 5, 0.5))),
    ("SGD ExponentialDecay staircase", lambda: SGD(ExponentialDecay(0.1, 3, 0.7, True), momentum=0.5)),
    ("SGD InverseTimeDecay", lambda: SGD(InverseTimeDecay(0.1, 3, 0.7), momentum=0.5)),
    ("Adam InverseTimeDecay power", lambda: Adam(InverseTimeDecay(0.02, 4, 1.0, True, 2.0))),
    ("SGD nesterov OneCycle", lambda: SGD(OneCycle(0.1, 20), momentum=0.9, nesterov=True)),
    ("RMSprop OneCycle three_phase", lambda: RMSprop(OneCycle(0.01, 20, 0.2, "linear", three_phase=True))),
]  # fmt: skip


def _keras_data():
    rng = np.random.default_rng(7)
    return rng.normal(size=(16, 5)), rng.integers(0, 3, size=16)


@pytest.mark.parametrize("name, make", KERAS_CASES, ids=[c[0] for c in KERAS_CASES])
def test_20_steps_float64_match_keras(name, make):
    """OPT1-OPT3, LR1-LR3: 20 steps in float64 end on Keras' weights to <= 1e-12 relative.

    Relative here is to the distance the weights moved (max|got - ref| / max|ref - W0|),
    the sharp measure; Keras' float32 hyper-parameters are mirrored (crosscheck.training).
    Both gradient sources: refnet's gradients fed to Keras' apply_gradients ("update"),
    and Keras' own GradientTape gradients ("tape").
    """
    pytest.importorskip("tensorflow")
    from crosscheck.training import compare_training

    X, y = _keras_data()
    net = refnet.Network.build([5, 7, 3], ["tanh", "linear"], seed=3)
    report = compare_training(
        net, X, y, "softmax_cross_entropy", make(), steps=20, batch_size=8
    )
    assert report.ok, str(report)
    assert report.worst_moved("update") <= 1e-12, str(report)
    assert report.worst_moved("tape") <= 1e-12, str(report)


@pytest.mark.parametrize(
    "name, make", KERAS_CASES[::2], ids=[c[0] for c in KERAS_CASES[::2]]
)
def test_20_steps_float32_match_keras(name, make):
    """float32: within docs/design.md's tolerance (TOL1, grown by sqrt(steps))."""
    pytest.importorskip("tensorflow")
    from crosscheck.training import compare_training

    X, y = _keras_data()
    net = refnet.Network.build([5, 7, 3], ["tanh", "linear"], seed=3, dtype="float32")
    report = compare_training(
        net, X, y, "softmax_cross_entropy", make(), steps=20, batch_size=8
    )
    assert report.ok, str(report)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(0.05, momentum=0.9),
        lambda: Adam(0.01),
        lambda: SGD(InverseTimeDecay(0.1, 3, 0.7)),
    ],
)
def test_keras_float32_hyper_parameters_are_visible_without_the_mirror(make):
    """Keras rounds lr / momentum / betas through float32 even for float64 weights: without
    the mirror the float64 weights differ by far more than rounding (the check can fail)."""
    pytest.importorskip("tensorflow")
    from crosscheck.training import compare_training

    X, y = _keras_data()
    net = refnet.Network.build([5, 7, 3], ["tanh", "linear"], seed=3)
    report = compare_training(
        net,
        X,
        y,
        "softmax_cross_entropy",
        make(),
        steps=20,
        batch_size=8,
        gradients="update",
        mirror=False,
    )
    assert report.worst_moved("update") > 1e-10


def test_zero_d_arrays_are_numbers_as_keras_takes_them():
    """The review's over-strict case: SGD(learning_rate=np.array(0.1)) is Keras-valid."""
    assert SGD(learning_rate=np.array(0.1)).learning_rate == 0.1
    assert Adam(beta_1=np.float32(0.5)).beta_1 == 0.5
    with pytest.raises(TypeError, match="learning_rate"):
        SGD(learning_rate=np.array([0.1]))  # one number, not a vector
    with pytest.raises(TypeError, match="learning_rate"):
        SGD(learning_rate=np.array(True))


def test_a_schedule_that_fails_is_named_learning_rate():
    net = refnet.Network.build([3, 2], seed=0)
    res = net.gradients(np.ones((2, 3)), np.zeros((2, 2)), "mse")
    for schedule in (lambda: 0.1, lambda step: 1 / 0):
        opt = refnet.optimizers.SGD(learning_rate=schedule)
        with pytest.raises(TypeError, match="learning_rate: the schedule raised"):
            opt.apply(net, res)
