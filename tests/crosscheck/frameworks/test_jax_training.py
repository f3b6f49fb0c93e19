"""Training against optax: the rows, the hyper-parameter mapping and its quirks.

Expected values come from optax (its optimizers and schedules run on the same weights
and gradients) or from one- and two-step hand derivations of optax's and Keras' update
lines, quoted in crosscheck/frameworks/jax/training.py. Each quirk test shows the
difference exists (the naive mapping fails, with its measured size) and that the stated
conversion removes it. Skipped without jax and optax (pytest.importorskip).
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

pytest.importorskip("jax")
optax = pytest.importorskip("optax")


@pytest.fixture
def x64():
    """JAX's 64-bit types for the test's body only (the oracle's own scope)."""
    from crosscheck.frameworks.jax.imports import x64 as scope

    with scope():
        yield


def _data():
    rng = np.random.default_rng(4)
    return rng.normal(size=(24, 6)), rng.integers(0, 3, size=24)


def _compare(optimizer, dtype="float64", steps=10, **kwargs):
    from crosscheck.training import compare_training

    X, y = _data()
    net = refnet.Network.build([6, 8, 3], ["tanh", "linear"], seed=1, dtype=dtype)
    return compare_training(
        net,
        X,
        y,
        "softmax_cross_entropy",
        optimizer,
        steps=steps,
        batch_size=8,
        oracle="jax",
        **kwargs,
    )


def _optax_steps(tx, grads, start=0.0) -> list[float]:
    """Feed the gradients to the optax transformation ``tx`` one step each (float64:
    call inside the x64 fixture); the parameter after every step."""
    import jax.numpy as jnp

    p = jnp.array([start])
    state = tx.init(p)
    out = []
    for g in grads:
        updates, state = tx.update(jnp.array([g]), state, p)
        p = optax.apply_updates(p, updates)
        assert p.dtype == jnp.float64
        out.append(float(p[0]))
    return out


def _wrapped_steps(optimizer, grads, convert=True) -> list[float]:
    """The same through crosscheck's OptaxOptimizer (the mapping under test)."""
    import jax.numpy as jnp

    from crosscheck.frameworks.jax.training import OptaxOptimizer

    p = jnp.array([0.0])
    opt = OptaxOptimizer(optimizer, p, convert)
    out = []
    for g in grads:
        p = opt.step(jnp.array([g]), p)
        out.append(float(p[0]))
    return out


def _refnet_steps(opt, grads) -> list[float]:
    """The same on refnet's side: a 1-1 linear net's bias b as the one parameter."""
    net = refnet.Network.build([1, 1], ["linear"], init="zeros")
    out = []
    for g in grads:
        opt.apply(net, [np.zeros((1, 1)), np.array([g])])
        out.append(float(net.layers[0].b[0]))
    return out


# --- the training rows (python -m crosscheck --oracle jax) ------------------------------


def _cases():
    from crosscheck.training import training_cases

    return training_cases("jax")


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_training_rows_against_optax_pass(case):
    """OPT1-OPT3, LR1-LR3 against optax: every weight after every step within TOL1
    (grown by sqrt(steps)), both gradient sources, RMSprop with Keras' own epsilon 1e-7.
    float64: within 1e-12 of the distance the weights moved (measured: <= 7e-14), as
    tight as the torch rows."""
    from crosscheck.training import compare_training

    case = dict(case)
    case.pop("name")
    report = compare_training(**case)
    assert report.ok, str(report)
    assert "against optax" in report.title
    assert {r.name.split("/")[0] for r in report.rows} == {"update", "tape"}
    assert not report.bounds  # every rule maps exactly: no bound to report
    if case["net"].dtype == np.float64:
        assert report.worst_moved("update") <= 1e-12, str(report)
        assert report.worst_moved("tape") <= 1e-12, str(report)


def test_every_optimizer_of_the_matrix_runs_against_optax():
    """No row is skipped, and RMSprop keeps Keras' default epsilon (torch's rows need
    1e-30): 13 optimizers in each dtype."""
    from crosscheck.frameworks.jax import training

    cases = _cases()
    assert training.ROW_SKIP == () and training.ROW_RMSPROP == {}
    assert len(cases) == 26
    assert all(c["oracle"] == "jax" for c in cases)
    rms = [c["optimizer"] for c in cases if isinstance(c["optimizer"], RMSprop)]
    assert rms and all(o.epsilon == 1e-7 for o in rms)


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
def test_tape_source_through_every_loss(loss, activations, make_y, dtype):
    """The tape source runs jax.grad through forward() and jax_loss (int ids, one-hot
    rows, columns): 10 Adam steps land on refnet's weights."""
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
        oracle="jax",
    )
    assert report.ok, str(report)


def test_training_rows_name_the_weights_of_a_net_without_some_biases():
    """A layer without bias is (W, None) in the pytree; optax skips the None leaf, and
    the rows have no b1."""
    import crosscheck

    net = refnet.Network.build(
        [5, 8, 3], ["tanh", "linear"], seed=0, use_bias=[False, True]
    )
    X = np.random.default_rng(0).normal(size=(8, 5))
    y = np.arange(8) % 3
    report = crosscheck.compare_training(
        net, X, y, "softmax_cross_entropy", Adam(0.01), steps=3, oracle="jax"
    )
    assert report.ok, str(report)
    shapes = {r.name.split("/")[1]: tuple(r.shape) for r in report.rows}
    assert shapes == {"W1": (5, 8), "W2": (8, 3), "b2": (3,)}


def test_x64_stays_inside_the_oracle(inline):
    """A float64 comparison run in this process (inline) leaves JAX's 64-bit mode as
    it found it: off."""
    import jax

    assert not jax.config.jax_enable_x64
    assert _compare(SGD(0.1), steps=2).ok
    assert not jax.config.jax_enable_x64
    assert jax.numpy.asarray(1.0).dtype == np.float32


def test_without_optax_the_jax_oracle_says_how_to_install(monkeypatch, inline):
    """optax absent (simulated): ImportError naming the packages to install."""
    monkeypatch.setitem(sys.modules, "optax", None)
    with pytest.raises(ImportError, match=r'pip install "jax\[cpu\]" optax'):
        _compare(SGD(0.1), steps=1)


def test_other_schedules_are_refused():
    from crosscheck.frameworks.jax.training import optax_schedule

    with pytest.raises(ValueError, match="optimizer: only constant rates"):
        optax_schedule(lambda step: 0.1)


# --- the mapping, one and two steps by hand ----------------------------------------------


@pytest.mark.parametrize(
    "nesterov, want", [(False, [-0.1, -0.29]), (True, [-0.19, -0.461])]
)
def test_sgd_trace_is_the_buffer_form(x64, nesterov, want):
    """lr 0.1, momentum 0.9, g = 1 twice. Keras / refnet: m1 = -0.1, m2 = 0.9 m1 - 0.1 =
    -0.19, w2 = -0.29 (nesterov: w1 = 0.9 m1 - 0.1 = -0.19, w2 = w1 + 0.9 m2 - 0.1 =
    -0.461). optax's trace b' = g + 0.9 b, u = -0.1 b' (nesterov -0.1 (g + 0.9 b')): b1 = 1,
    b2 = 1.9; the same weights, with m = -lr b."""
    tx = optax.sgd(0.1, momentum=0.9, nesterov=nesterov)
    assert _optax_steps(tx, [1.0, 1.0]) == pytest.approx(want, rel=1e-14)
    assert _refnet_steps(SGD(0.1, 0.9, nesterov), [1.0, 1.0]) == pytest.approx(
        want, rel=1e-14
    )


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_under_a_schedule_needs_the_trace_rescaled(x64, nesterov):
    """lr 0.1 then 0.05 (ExponentialDecay(0.1, 1, 0.5)), momentum 0.9, g = 1 twice.
    Keras / refnet: w2 = -0.24 (nesterov -0.366). optax.sgd with
    optax.exponential_decay(0.1, 1, 0.5): b2 = 1.9, w2 = -0.1 - 0.05 b2 = -0.195
    (nesterov: -0.19 - 0.05 (1 + 0.9 b2) = -0.3255), torch's numbers. Rescaling the
    trace by lr1 / lr2 = 2 before step 2 gives refnet's."""
    keras = [-0.19, -0.366] if nesterov else [-0.1, -0.24]
    naive = [-0.19, -0.3255] if nesterov else [-0.1, -0.195]
    schedule = ExponentialDecay(0.1, 1, 0.5)
    opt = SGD(schedule, momentum=0.9, nesterov=nesterov)
    assert _refnet_steps(opt, [1.0, 1.0]) == pytest.approx(keras, rel=1e-14)
    tx = optax.sgd(optax.exponential_decay(0.1, 1, 0.5), 0.9, nesterov)
    assert _optax_steps(tx, [1.0, 1.0]) == pytest.approx(naive, rel=1e-7)
    for convert, want in [(True, keras), (False, naive)]:
        got = _wrapped_steps(SGD(schedule, 0.9, nesterov), [1.0, 1.0], convert)
        assert got == pytest.approx(want, rel=1e-14 if convert else 1e-7)


def test_rmsprop_centered_momentum_two_steps_by_hand(x64):
    """rho 0.8, momentum 0.5, epsilon 1e-7, lr 0.01, g = 1 then 0.5. Step 1: v = mg =
    0.2, D = 0.2 - 0.04 + 1e-7, s1 = 0.01 / sqrt(D). Step 2: v = 0.21, mg = 0.26, D =
    0.21 - 0.0676 + 1e-7, s2 = 0.5 s1 + 0.005 / sqrt(D). optax.rmsprop(decay=0.8,
    eps=1e-7, centered=True, momentum=0.5) (eps inside the square root, trace after the
    rate) takes exactly these steps, as refnet."""
    s1 = 0.01 / math.sqrt(0.2 - 0.04 + 1e-7)
    s2 = 0.5 * s1 + 0.005 / math.sqrt(0.21 - 0.26**2 + 1e-7)
    want = [-s1, -s1 - s2]
    tx = optax.rmsprop(0.01, decay=0.8, eps=1e-7, centered=True, momentum=0.5)
    assert _optax_steps(tx, [1.0, 0.5]) == pytest.approx(want, rel=1e-14)
    opt = RMSprop(0.01, rho=0.8, momentum=0.5, epsilon=1e-7, centered=True)
    assert _refnet_steps(opt, [1.0, 0.5]) == pytest.approx(want, rel=1e-14)
    assert _wrapped_steps(opt, [1.0, 0.5]) == pytest.approx(want, rel=1e-14)


def test_rmsprop_momentum_under_a_schedule_needs_no_rescaling(x64):
    """optax's RMSprop applies its momentum trace after the learning rate, so its trace
    is Keras' slot (negated) under any schedule: lr 0.1 then 0.05, momentum 0.5, g = 1
    twice, rho 0.9, epsilon 1e-30: step 1 inc = 0.1 / sqrt(0.1); step 2 inc = 0.05 /
    sqrt(0.19), s2 = 0.5 s1 + inc."""
    s1 = 0.1 / math.sqrt(0.1)
    s2 = 0.5 * s1 + 0.05 / math.sqrt(0.19)
    opt = RMSprop(ExponentialDecay(0.1, 1, 0.5), 0.9, 0.5, epsilon=1e-30)
    want = [-s1, -s1 - s2]
    assert _refnet_steps(opt, [1.0, 1.0]) == pytest.approx(want, rel=1e-14)
    assert _wrapped_steps(opt, [1.0, 1.0]) == pytest.approx(want, rel=1e-14)


def test_rmsprop_epsilon_placement_eps_in_sqrt(x64):
    """First step from v = 0 with g = 1e-3, rho = 0.9, epsilon = 1e-7, lr = 0.01: v =
    1e-7. optax's default eps_in_sqrt=True divides by sqrt(v + eps), Keras' placement;
    eps_in_sqrt=False (torch's, sqrt(v) + eps) takes a step 1.414 times refnet's."""
    g, lr, eps = 1e-3, 0.01, 1e-7
    (w_refnet,) = _refnet_steps(RMSprop(lr, rho=0.9, epsilon=eps), [g])
    assert w_refnet == pytest.approx(-lr * g / math.sqrt(1e-7 + eps), rel=1e-14)
    (inside,) = _optax_steps(optax.rmsprop(lr, decay=0.9, eps=eps), [g])
    assert inside == pytest.approx(w_refnet, rel=1e-14)
    outside = optax.rmsprop(lr, decay=0.9, eps=eps, eps_in_sqrt=False)
    (w_out,) = _optax_steps(outside, [g])
    assert w_out == pytest.approx(-lr * g / (math.sqrt(1e-7) + eps), rel=1e-14)
    assert w_out / w_refnet == pytest.approx(1.414, abs=1e-3)


def test_rmsprop_rows_with_torchs_epsilon_placement_fail(monkeypatch, inline):
    """The rows with eps_in_sqrt=False (torch's placement) and Keras' epsilon 1e-7
    fail: measured 1.1e-2 of the distance moved in float64, as the torch rows with the
    same epsilon; the mapping's eps_in_sqrt=True passes them."""
    from crosscheck.frameworks.jax import training

    assert _compare(RMSprop(0.01), gradients="update").worst_moved() <= 1e-12
    hyper = training.optax_hyper

    def outside(*args):
        name, kwargs = hyper(*args)
        return name, kwargs | {"eps_in_sqrt": False}

    monkeypatch.setattr(training, "optax_hyper", outside)
    report = _compare(RMSprop(0.01), gradients="update")
    assert not report.ok
    assert 5e-3 < report.worst_moved("update") < 2e-2, report.worst_moved("update")


def test_adam_epsilon_is_optax_eps_times_sqrt_one_minus_beta2_power(x64):
    """First Adam step with g = 1e-5: m_hat = g, v_hat = g^2. optax: lr g / (|g| + eps);
    Keras / refnet: lr g / (|g| + epsilon / sqrt(1 - beta_2)), epsilon = 1e-7. The same
    number in optax takes a step 1.30 times refnet's; eps = 1e-7 / sqrt(1 - 0.999) (the
    conversion) gives refnet's step."""
    g, lr, eps, b2 = 1e-5, 0.01, 1e-7, 0.999
    (w_refnet,) = _refnet_steps(Adam(lr, epsilon=eps), [g])
    assert w_refnet == pytest.approx(-lr * g / (g + eps / math.sqrt(1 - b2)), rel=1e-12)
    (naive,) = _optax_steps(optax.adam(lr, eps=eps), [g])
    assert naive == pytest.approx(-lr * g / (g + eps), rel=1e-12)
    assert naive / w_refnet == pytest.approx(1.3032, abs=1e-4)
    (converted,) = _optax_steps(optax.adam(lr, eps=eps / math.sqrt(1 - b2)), [g])
    assert converted == pytest.approx(w_refnet, rel=1e-14)
    grads = [g, -3e-5, 2e-6, 1e-5]  # the per-step eps through inject_hyperparams
    assert _wrapped_steps(Adam(lr, epsilon=eps), grads) == pytest.approx(
        _refnet_steps(Adam(lr, epsilon=eps), grads), rel=1e-13
    )


def test_amsgrad_needs_the_raw_maximum(x64):
    """beta_1 = beta_2 = 0.9, g = 1 then 0.1: v1 = 0.1, v2 = 0.091 < v1. Keras (and
    torch) keep max(v) = 0.1 raw, so the second step is lr (0.1 / 0.19) / (sqrt(0.1) /
    sqrt(0.19)). optax.amsgrad's default takes the maximum over the bias-corrected
    v / (1 - beta_2^t) (1 and 0.479): lr (0.1 / 0.19) / 1, 27 % shorter.
    bias_correction_nu=False with learning_rate lr sqrt(1 - beta_2^t) (the mapping)
    gives Keras' steps."""
    lr, eps = 0.1, 1e-12
    raw = lr * (0.1 / 0.19) / (math.sqrt(0.1) / math.sqrt(0.19))
    corrected = lr * (0.1 / 0.19) / 1.0
    opt = Adam(lr, 0.9, 0.9, epsilon=eps, amsgrad=True)
    r1, r2 = _refnet_steps(opt, [1.0, 0.1])
    assert [r1, r2 - r1] == pytest.approx([-lr, -raw], rel=1e-10)
    d1, d2 = _optax_steps(optax.amsgrad(lr, 0.9, 0.9, eps=eps), [1.0, 0.1])
    assert [d1, d2 - d1] == pytest.approx([-lr, -corrected], rel=1e-10)
    assert abs(corrected / raw - 1) > 0.25
    assert _wrapped_steps(opt, [1.0, 0.1]) == pytest.approx([r1, r2], rel=1e-14)


@pytest.mark.parametrize(
    "make, size",
    [
        (lambda: Adam(0.01), 4.7e-4),
        (lambda: Adam(0.01, beta_2=0.99, amsgrad=True), 0.39),
    ],
    ids=["adam", "amsgrad"],
)
def test_adam_rows_need_the_conversions(make, size):
    """Without the conversions (optax.adam / optax.amsgrad with the same numbers and
    their defaults) 10 steps differ by ~size of the distance moved (measured 4.7e-4 for
    Adam's epsilon, as torch's; 0.39 for AMSGrad's bias-corrected maximum), float32
    too; with them they agree to rounding."""
    for dtype in ("float64", "float32"):
        naive = _compare(make(), dtype, gradients="update", convert=False)
        assert not naive.ok
        assert size / 2 < naive.worst_moved("update") < 2 * size
        assert _compare(make(), dtype, gradients="update").ok


def test_momentum_schedule_rows_fail_without_the_rescaling():
    """10 steps, ExponentialDecay(0.1, 3, 0.5), momentum 0.9: without the trace rescaling
    the weights end 0.79 of the distance moved apart (measured, as torch); with it,
    rounding."""
    opt = SGD(ExponentialDecay(0.1, 3, 0.5), momentum=0.9)
    naive = _compare(opt, gradients="update", convert=False)
    assert not naive.ok and 0.5 < naive.worst_moved("update") < 1
    assert _compare(opt, gradients="update").worst_moved("update") <= 1e-12


def test_optax_defaults_differ_from_keras():
    """optax's eps defaults to 1e-8 (Keras and refnet: 1e-7), its amsgrad corrects v
    before the maximum, its sgd has no momentum; the mapping passes every argument."""
    import inspect

    from crosscheck.frameworks.jax.training import optax_hyper

    def default(fn, name):
        return inspect.signature(fn).parameters[name].default

    assert default(optax.adam, "eps") == 1e-8 != Adam().epsilon == 1e-7
    assert default(optax.rmsprop, "eps") == 1e-8 != RMSprop().epsilon
    assert default(optax.amsgrad, "bias_correction_nu") is True
    assert default(optax.rmsprop, "eps_in_sqrt") is True
    assert optax_hyper(RMSprop()) == (
        "rmsprop",
        {
            "learning_rate": 0.001,
            "decay": 0.9,
            "eps": 1e-7,
            "initial_scale": 0.0,
            "eps_in_sqrt": True,
            "centered": False,
            "momentum": None,
            "nesterov": False,
            "bias_correction": False,
        },
    )
    name, kw = optax_hyper(Adam(), convert=False)
    assert (name, kw["eps"], kw["eps_root"]) == ("adam", 1e-7, 0.0)
    name, kw = optax_hyper(Adam(amsgrad=True))
    assert name == "amsgrad" and kw["bias_correction_nu"] is False
    assert kw["learning_rate"](0) == pytest.approx(0.001 * math.sqrt(1 - 0.999))
    assert optax_hyper(SGD(0.1, 0.0, nesterov=True)) == (
        "sgd",
        {"learning_rate": 0.1, "momentum": None, "nesterov": False},
    )


def test_nesterov_without_momentum_is_plain_sgd():
    """Keras ignores nesterov=True when momentum = 0; the mapping passes momentum=None
    (no trace)."""
    report = _compare(SGD(0.1, momentum=0.0, nesterov=True), gradients="update")
    assert report.ok and report.worst_moved() <= 1e-12, str(report)


# --- schedules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        ExponentialDecay(0.02, 3, 0.5),
        ExponentialDecay(0.02, 3, 0.5, staircase=True),
        InverseTimeDecay(0.02, 3, 0.5),
        InverseTimeDecay(0.02, 2, 1.0, staircase=True, power=2.0),
        OneCycle(0.05, 10),
        OneCycle(0.05, 10, 0.25, "linear", three_phase=True),
        OneCycle(0.05, 10, 0.4, "linear", three_phase=True),
        OneCycle(0.05, 12, 0.25, "cos", three_phase=True),
        OneCycle(0.05, 20, 0.15, "linear"),
        OneCycle(0.05, 10, 0.15),
        OneCycle(0.05, 10, 0.18, three_phase=True),
    ],
    ids=repr,
)
def test_schedules_give_refnets_rates(x64, schedule):
    """LR1-LR3: the mapped schedule, evaluated by optax itself (its update count, in
    scale_by_schedule) at steps 0-13, gives refnet's rate to rounding (past a 1cycle:
    its last rate, held)."""
    import jax.numpy as jnp

    from crosscheck.frameworks.jax.training import optax_hyper

    _, kwargs = optax_hyper(SGD(schedule))
    tx = optax.sgd(kwargs["learning_rate"])
    p = jnp.array([0.0])
    state = tx.init(p)
    for t in range(14):
        updates, state = tx.update(jnp.array([-1.0]), state, p)  # the step is the rate
        assert float(updates[0]) == pytest.approx(schedule(t), rel=1e-14), t


def test_one_cycle_maps_to_optax_onecycle_with_shifted_steps(x64):
    """OneCycle(0.2, 10) (t_1 = 2, end 9) is optax.cosine_onecycle_schedule(9, 0.2,
    pct_start=2/9). The same arguments in optax, cosine_onecycle_schedule(10, 0.2), peak
    at step int(0.3 * 10) = 3 and end at step 10: step 2's rate is 0.152 instead of the
    peak 0.2. The linear three-phase OneCycle(0.2, 11, 0.3, "linear", three_phase=True)
    (t_1 = 2.3) needs piecewise_interpolate_schedule: the phase ends are fractional."""
    from crosscheck.frameworks.jax.training import one_cycle_phases, optax_schedule

    lr = OneCycle(0.2, 10)
    assert one_cycle_phases(lr) == [2.0, 9]
    mapped = optax.cosine_onecycle_schedule(9, 0.2, pct_start=2 / 9)
    same_args = optax.cosine_onecycle_schedule(10, 0.2, pct_start=0.3)
    for t in range(13):
        want = lr(t)
        assert float(optax_schedule(lr)(float(t))) == pytest.approx(want, rel=1e-14)
        assert float(mapped(float(t))) == pytest.approx(want, rel=1e-14)
    assert lr(2) == 0.2
    # two thirds up optax's warm-up: 0.2 + (0.008 - 0.2) / 2 (cos(2 pi / 3) + 1)
    assert float(same_args(2.0)) == pytest.approx(0.152, rel=1e-14)
    assert float(same_args(9.0)) > 1e3 * lr(9)
    three = OneCycle(0.2, 11, 0.3, "linear", three_phase=True)
    assert one_cycle_phases(three) == pytest.approx([2.3, 4.6, 10])


def test_optax_schedules_count_in_int32_so_float64_rates_round_to_float32(x64):
    """optax evaluates a schedule at its int32 update count; JAX divides two ints in
    float32 even in 64-bit mode, so optax.exponential_decay's count / transition_steps
    and the rate are float32-rounded (here 2e-9 to 1e-7 relative). The mapping passes
    the count as a float; without (convert=False) the float64 rows fail at 3.7e-8 of the
    distance moved (plain SGD, measured) while float32 rows pass."""
    import jax.numpy as jnp

    lr = ExponentialDecay(0.1, 3, 0.5)
    sched = optax.exponential_decay(0.1, 3, 0.5)
    worst = max(abs(float(sched(jnp.int32(t))) / lr(t) - 1) for t in (1, 2, 4, 5, 7, 8))
    assert 1e-10 < worst < 2e-7, worst
    assert float(sched(jnp.float64(4))) == pytest.approx(lr(4), rel=1e-15)
    naive = _compare(SGD(lr), gradients="update", convert=False)
    assert not naive.ok and 1e-8 < naive.worst_moved() < 1e-7
    assert _compare(SGD(lr), gradients="update").worst_moved() <= 1e-12
    assert _compare(SGD(lr), "float32", gradients="update", convert=False).ok


def test_lr3_rows_run_past_the_cycle():
    """LR3: 13 steps of a 10-step cycle: optax holds the last value past its
    transition_steps, refnet's rule, and the weights still agree."""
    report = _compare(SGD(OneCycle(0.1, 10), momentum=0.9), steps=13)
    assert report.ok and report.worst_moved() <= 1e-12, str(report)
