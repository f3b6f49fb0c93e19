"""The training path's memory reuse: ``gradients(out=)``, fit's unchecked batches, in-place
optimizer updates and the BLAS thread policy (docs/09-speed.md).

Expected values come from the plain, allocating calls: a fresh ``net.gradients`` (itself
checked against finite differences and TensorFlow elsewhere) and a loop of public
``gradients`` + ``optimizer.apply``. Reuse must change no bit of them.
"""

from __future__ import annotations

import copy
import sys
import tracemalloc

import numpy as np
import pytest

import refnet
from refnet import threads
from refnet.optimizers import SGD, Adam, RMSprop

# layout, activations, loss, Y maker
CASES = [
    ("5-7-4-3", ["relu", "tanh", "linear"], "softmax_cross_entropy", "ids"),
    ("5-6-3", ["sigmoid", "softmax"], "categorical_cross_entropy", "onehot"),
    ("5-4-2", ["elu", "sigmoid"], "mse", "real"),
    ("5-4-1", ["relu", "linear"], "binary_cross_entropy", "binary"),
]


def _problem(layout, activations, loss, kind, dtype, n=8, seed=0):
    net = refnet.Network.build(layout, activations, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 1)
    for layer in net.layers:
        layer.b = rng.normal(0, 0.1, layer.n_out).astype(dtype)
    k = net.sizes[-1]

    def batch():
        X = rng.normal(size=(n, net.sizes[0]))
        if kind == "ids":
            Y = rng.integers(0, k, n)
        elif kind == "onehot":
            Y = np.eye(k)[rng.integers(0, k, n)]
        elif kind == "binary":
            Y = rng.integers(0, 2, (n, k)).astype(float)
        else:
            Y = rng.normal(size=(n, k))
        return X.astype(dtype), Y

    return net, batch


def _all_arrays(res):
    return [*res.z, *res.a[1:], *res.delta, *res.dW, *res.db]


def _assert_same(got, want):
    assert got.loss == want.loss
    for name in ("z", "a", "delta", "dW", "db"):
        for l, (g, w) in enumerate(zip(getattr(got, name), getattr(want, name))):
            assert g.dtype == w.dtype, (name, l)
            np.testing.assert_array_equal(g, w, err_msg=f"{name}[{l}]")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] + "-" + c[2] for c in CASES])
def test_out_is_bit_identical_to_a_fresh_call_and_reuses_the_arrays(case, dtype):
    net, batch = _problem(*case, dtype)
    X1, Y1 = batch()
    res = net.gradients(X1, Y1, case[2])
    before = [id(x) for x in _all_arrays(res)]
    for _ in range(3):  # several reuses: stale contents must not leak into the next
        X, Y = batch()
        X_copy = X.copy()
        got = net.gradients(X, Y, case[2], out=res)
        assert got is res
        _assert_same(got, net.gradients(X, Y, case[2]))
        np.testing.assert_array_equal(X, X_copy)  # the caller's X is never written
        assert got.a[0] is X  # a[0] = X itself, as a plain call gives
    after = [id(x) for x in _all_arrays(res)]
    # every array of the first result is reused, except a[l] of an activation that
    # cannot write into an array (elu here) and the loss's delta[L] on the first call
    reused = sum(b == a for b, a in zip(before, after))
    fixed = [
        not (layer.activation.f_takes_out or layer.activation.name == "linear")
        for layer in net.layers
    ]
    assert reused >= len(before) - sum(fixed) - 1


def test_out_never_writes_into_the_callers_x_even_when_x_is_one_of_its_arrays():
    """X = res.a[1] of an earlier result (a 4-4-2 net, so shapes fit): writing into res
    would overwrite the input mid-pass; gradients gives a fresh result instead."""
    net = refnet.Network.build([4, 4, 2], ["tanh", "linear"], seed=0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 6)
    res = net.gradients(rng.normal(size=(6, 4)), y, "softmax_cross_entropy")
    X = res.a[1]
    X_copy = X.copy()
    got = net.gradients(X, y, "softmax_cross_entropy", out=res)
    assert got is not res
    np.testing.assert_array_equal(X, X_copy)
    _assert_same(got, net.gradients(X_copy, y, "softmax_cross_entropy"))


def test_out_of_another_shape_or_dtype_gives_fresh_arrays_and_leaves_out_alone():
    net, batch = _problem(*CASES[0], "float64")
    X, Y = batch()
    res = net.gradients(X, Y, "softmax_cross_entropy")
    snapshot = [x.copy() for x in _all_arrays(res)]
    X5, Y5 = X[:5], Y[:5]
    got = net.gradients(X5, Y5, "softmax_cross_entropy", out=res)
    assert got is not res
    _assert_same(got, net.gradients(X5, Y5, "softmax_cross_entropy"))
    other = refnet.Network.build(
        "5-7-4-3", ["relu", "tanh", "linear"], seed=0, dtype="float32"
    )
    assert other.gradients(X, Y, "softmax_cross_entropy", out=res) is not res
    for x, s in zip(_all_arrays(res), snapshot):
        np.testing.assert_array_equal(x, s)
    with pytest.raises(TypeError, match="out: expected an earlier net.gradients"):
        net.gradients(X, Y, "softmax_cross_entropy", out=[1, 2])


def test_plain_calls_return_fresh_arrays_the_caller_owns():
    net, batch = _problem(*CASES[0], "float64")
    X, Y = batch()
    a = net.gradients(X, Y, "softmax_cross_entropy")
    b = net.gradients(X, Y, "softmax_cross_entropy")
    for x in _all_arrays(a):
        assert not any(np.shares_memory(x, y) for y in _all_arrays(b))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(0.05, momentum=0.9, nesterov=True),
        lambda: Adam(0.01),
        lambda: RMSprop(0.01, momentum=0.5, centered=True),
    ],
    ids=["sgd_nesterov", "adam", "rmsprop_centered"],
)
def test_fit_equals_a_loop_of_public_gradients_and_apply(make, dtype):
    """fit's unchecked, buffer-reusing path = the public calls, bit for bit: shuffled
    batches of 6, 6, 6, 2 over three epochs, the weights and the reported history."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 5))
    y = rng.integers(0, 3, 20)
    net = refnet.Network.build([5, 8, 3], seed=1, dtype=dtype)
    manual = copy.deepcopy(net)
    hist = net.fit(
        X,
        y,
        "softmax_cross_entropy",
        make(),
        epochs=3,
        batch_size=6,
        seed=7,
        progress=False,
    )
    opt, order_rng = make(), np.random.default_rng(7)
    losses = []
    for _ in range(3):
        order, total = order_rng.permutation(20), 0.0
        for start in range(0, 20, 6):
            rows = order[start : start + 6]
            res = manual.gradients(X[rows], y[rows], "softmax_cross_entropy")
            opt.apply(manual, res)
            total += res.loss * len(rows)
        losses.append(total / 20)
    for a, b in zip(net.get_weights(), manual.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert hist["loss"] == losses


def test_fit_still_stops_on_a_diverged_step():
    """The unchecked path hands a non-finite loss to the full check (optimizer.apply)."""
    X = np.array([[1e30, 1e30]]) * np.ones((4, 1))
    net = refnet.Network.build([2, 1], ["linear"], seed=0)
    with pytest.raises(ValueError, match="diverged"), np.errstate(all="ignore"):
        net.fit(X, np.ones(4), "mse", SGD(1e10), epochs=3, batch_size=2, progress=False)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(0.1),
        lambda: SGD(0.1, momentum=0.9, nesterov=True),
        lambda: Adam(),
        lambda: RMSprop(momentum=0.5, centered=True),
        lambda: Adam(amsgrad=True),
    ],
)
def test_an_optimizer_step_allocates_nothing_the_size_of_a_weight(make):
    """After the first step (which creates the state), an update runs in place in its
    scratch buffers: the step's peak allocation stays below a quarter of the largest
    weight (apply's finite check makes one boolean array of it), where the plain NumPy
    lines allocate several weight-sized temporaries."""
    net = refnet.Network.build([300, 200, 10], seed=0)
    X, y = np.random.default_rng(0).normal(size=(4, 300)), np.zeros(4, int)
    res = net.gradients(X, y, "softmax_cross_entropy")
    opt = make()
    opt.apply(net, res)
    tracemalloc.start()
    try:
        opt.apply(net, res)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < net.layers[0].W.nbytes / 4, peak


# --- the BLAS thread policy ---------------------------------------------------------------


def test_policy_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(threads.ENV_VAR, raising=False)
    assert threads.resolve(None) == "auto"
    assert threads.resolve(3) == 3
    assert threads.resolve("all") == "all"
    monkeypatch.setenv(threads.ENV_VAR, "2")
    assert threads.resolve(None) == 2
    assert threads.resolve(1) == 1  # the argument wins
    monkeypatch.setenv(threads.ENV_VAR, "many")
    with pytest.raises(
        ValueError, match="REFNET_BLAS_THREADS: expected a positive int"
    ):
        threads.resolve(None)
    for bad in (0, -1, True, "one", 1.5):
        with pytest.raises(ValueError, match="threads: expected a positive int"):
            threads.resolve(bad)


class _Machine:
    """A fake machine for the tuner: a step on n threads takes cost[n] seconds of a
    fake clock, and ``busy`` changes the costs mid-run. No wall clock is read."""

    def __init__(self, cost):
        self.cost = dict(cost)
        self.now = 0.0
        self.threads_set = []

    def set_threads(self, n):
        self.threads_set.append(n)

    def step(self, tuner):
        t0 = self.now
        self.now += self.cost[tuner.current]
        tuner.record(t0, self.now)


def test_auto_keeps_the_faster_count_and_notices_a_busy_machine():
    """Two threads twice as fast: kept after the probe; then the machine gets busy (two
    threads 20 times slower): within DRIFT_STEPS steps a probe switches to one."""
    machine = _Machine({1: 1.0e-3, 2: 0.5e-3})
    tuner = threads.Tuner("auto", machine.set_threads, (1, 2))
    probe_steps = 1 + 2 * threads.PROBE_ROUNDS  # the untimed first step, then the probe
    for _ in range(probe_steps):
        machine.step(tuner)
    assert tuner.current == 2
    [probe] = tuner.info["probes"]
    assert probe["reason"] == "start" and probe["threads"] == 2
    assert probe["seconds_per_step"] == pytest.approx({1: 1.0e-3, 2: 0.5e-3})
    for _ in range(10):
        machine.step(tuner)
    assert tuner.current == 2 and len(tuner.info["probes"]) == 1
    machine.cost = {1: 1.1e-3, 2: 10e-3}  # another process takes a core
    for _ in range(threads.DRIFT_STEPS):
        machine.step(tuner)
    assert len(tuner.info["probes"]) == 1  # the probe runs now: one thread only
    for _ in range(threads.PROBE_ROUNDS):
        machine.step(tuner)
    assert tuner.current == 1
    assert tuner.info["probes"][-1]["reason"] == "drift"
    # two threads judged by their steps since the probe (fewer than WINDOW): the 3
    # probe steps and 10 more at 0.5 ms, the 2 slow ones
    assert threads.WINDOW > 15
    assert tuner.info["probes"][-1]["seconds_per_step"] == pytest.approx(
        {1: 1.1e-3, 2: (13 * 0.5e-3 + 2 * 10e-3) / 15}
    )
    assert sum(tuner.info["steps"].values()) == tuner.steps


def _probed(costs: dict, cost_after: dict) -> tuple:
    """A tuner probed on a machine of ``costs``, which then turns to ``cost_after``."""
    machine = _Machine(costs)
    tuner = threads.Tuner("auto", machine.set_threads, (1, 2))
    for _ in range(1 + 2 * threads.PROBE_ROUNDS):
        machine.step(tuner)
    machine.cost = dict(cost_after)
    return machine, tuner


def test_two_threads_slower_than_one_thread_was_is_drift_too():
    """The probe caught a quiet moment (two threads 0.8 ms, one 1 ms); then two threads
    take 1.15 ms a step, within DRIFT of their own probe time but slower than one
    thread's: after DRIFT_STEPS such steps a probe times one thread again, and as the
    slow steps fill two threads' record, one thread is kept."""
    assert 1.15e-3 < threads.DRIFT * 0.8e-3  # not slow by the own-probe rule alone
    assert 1.15e-3 > threads.NOISE * 1e-3  # but beyond noise against one thread
    machine, tuner = _probed({1: 1e-3, 2: 0.8e-3}, {1: 1e-3, 2: 1.15e-3})
    assert tuner.current == 2
    for _ in range(threads.DRIFT_STEPS - 1):
        machine.step(tuner)
    assert tuner.current == 2  # not yet
    machine.step(tuner)
    assert tuner.current == 1  # probing one thread
    for _ in range(30):
        machine.step(tuner)
    assert tuner.info["probes"][-1]["reason"] == "drift"
    assert tuner.info["probes"][-1]["judged"] == 2
    assert tuner.current == 1 and tuner.info["probes"][-1]["threads"] == 1


def test_two_threads_steadily_slower_but_still_faster_are_kept_without_probing():
    """Two threads go from 0.5 to 0.9 ms a step and stay there, one thread takes 2 ms:
    one drift probe keeps two threads, whose time is then their recent mean, so the
    steady 0.9 ms steps are not slow and no probe follows (before: one every few
    steps)."""
    machine, tuner = _probed({1: 2e-3, 2: 0.5e-3}, {1: 2e-3, 2: 0.9e-3})
    for _ in range(3000):
        machine.step(tuner)
    assert tuner.current == 2
    assert len(tuner.info["probes"]) <= 3
    assert tuner.info["steps"][1] <= 2 * threads.PROBE_ROUNDS + 1


def test_noise_between_two_close_counts_is_not_drift():
    """Two threads barely faster (0.95 ms against 1 ms): steps 8 % slower than their
    probe, so slower than one thread's probe time, are noise, not a busy machine
    (within NOISE of one thread's probe time)."""
    machine, tuner = _probed({1: 1e-3, 2: 0.95e-3}, {1: 1e-3, 2: 1.08 * 0.95e-3})
    assert tuner.current == 2 and 1e-3 < 1.08 * 0.95e-3 < threads.NOISE * 1e-3
    for _ in range(200):
        machine.step(tuner)
    assert len(tuner.info["probes"]) == 1 and tuner.current == 2


@pytest.mark.parametrize("phase", range(5))
def test_a_busy_machine_with_fast_moments_settles_on_one_thread(phase):
    """Two threads on a busy machine: three steps in five run while both threads have a
    core (0.4 ms), two wait for one (3 ms), 1.44 ms on average; one thread takes 1 ms.
    A probe can land on the fast moments (whatever the phase); the drift probe judges two
    threads by the mean of their last steps, so the tuner settles on one thread instead
    of probing again and again."""

    class Busy(_Machine):
        def step(self, tuner):
            if tuner.current == 2:
                self.cost[2] = [0.4e-3, 0.4e-3, 0.4e-3, 3e-3, 3e-3][self.k % 5]
                self.k += 1
            super().step(tuner)

    machine = Busy({1: 1e-3, 2: 0.4e-3})
    machine.k = phase
    tuner = threads.Tuner("auto", machine.set_threads, (1, 2))
    for _ in range(300):
        machine.step(tuner)
    assert tuner.current == 1
    assert len(tuner.info["probes"]) <= 2
    assert machine.now < 1.05 * 300 * 1e-3  # within 5 % of one thread all along


class _Stalling(_Machine):
    """Every ``every[n]``-th step on n threads stalls: it takes ``stall[n]`` seconds
    instead of cost[n] (a thread descheduled for a while)."""

    def __init__(self, cost, every, stall):
        super().__init__(cost)
        self.base, self.every, self.stall = dict(cost), every, stall
        self.k = dict.fromkeys(cost, 0)

    def step(self, tuner):
        n = tuner.current
        self.k[n] += 1
        stalls = n in self.every and self.k[n] % self.every[n] == 0
        self.cost[n] = self.stall[n] if stalls else self.base[n]
        super().step(tuner)


def test_isolated_stalls_on_two_threads_are_drift_by_their_cost():
    """A busy machine as measured on 2 shared cores: two threads take 0.7 ms a step but
    one step in 40 stalls for 80 ms (2.7 ms on average); one thread 1.2 ms, one step in
    8 taking 5 ms (1.7 ms on average). No two steps in a row are slow, and a probe of
    two threads mostly sees fast steps; the mean of the last WINDOW steps catches the
    stalls, so over 20 s (periodic probes that go back to two threads, drift probes that
    leave them) fit stays within 5 % of one thread's time, whichever steps the stalls
    fall on (without the average: 1.6 times)."""
    one_thread = (7 * 1.2e-3 + 5e-3) / 8
    for phase in range(0, 40, 3):
        machine = _Stalling({1: 1.2e-3, 2: 0.7e-3}, {1: 8, 2: 40}, {1: 5e-3, 2: 80e-3})
        machine.k[2] = phase
        tuner = threads.Tuner("auto", machine.set_threads, (1, 2))
        while machine.now < 20.0:
            machine.step(tuner)
        assert any(p["reason"] == "drift" for p in tuner.info["probes"])
        assert machine.now < 1.05 * tuner.steps * one_thread, phase


def test_rare_hiccups_on_an_idle_machine_are_not_drift():
    """An idle machine: two threads 0.5 ms, one 1 ms, and one step in 200 on two threads
    takes 5 ms (another process woke up). Those cost little (0.02 ms a step on
    average): no drift probe, wherever the hiccups fall. (A hiccup on a probe step can
    still make that probe choose one thread, until the next one.)"""
    for phase in range(0, 200, 9):
        machine = _Stalling({1: 1e-3, 2: 0.5e-3}, {2: 200}, {2: 5e-3})
        machine.k[2] = phase
        tuner = threads.Tuner("auto", machine.set_threads, (1, 2))
        for _ in range(20_000):
            machine.step(tuner)
        reasons = {p["reason"] for p in tuner.info["probes"]}
        assert reasons == {"start", "periodic"}, phase


def _probed_with_key(monkeypatch) -> tuple:
    """A tuner of problem "k" (no answers kept before it) probed on a fake clock: two
    threads at 0.5 ms a step, one at 1 ms; two threads kept."""
    monkeypatch.setattr(threads, "_LAST", {})
    monkeypatch.setattr(threads, "_PENDING", {})
    machine = _Machine({1: 1e-3, 2: 0.5e-3})
    monkeypatch.setattr(threads, "clock", lambda: machine.now)
    tuner = threads.Tuner("auto", machine.set_threads, (1, 2), key="k")
    for _ in range(1 + 2 * threads.PROBE_ROUNDS):
        machine.step(tuner)
    return machine, tuner


def test_the_next_fit_goes_on_with_the_last_ones_record_of_recent_steps(monkeypatch):
    """fit called epoch by epoch: a 30 ms stall near the end of one fit still counts in
    the next one's average of the last WINDOW steps (else each fit would start from the
    probe's steps, and stalls spread over short fits would never add up)."""
    machine, first = _probed_with_key(monkeypatch)
    for k in range(39):  # 3 probe steps + 39: 42 recorded, fewer than WINDOW
        machine.cost[2] = 30e-3 if k == 30 else 0.5e-3
        machine.step(first)
    assert first.current == 2 and len(first.info["probes"]) == 1
    first.close()
    second = threads.Tuner("auto", machine.set_threads, (1, 2), key="k")
    assert second.current == 2 and "resumed" in second.info
    assert threads.WINDOW == 50
    for _ in range(1 + 7):  # its untimed first step, then 7: 49 recorded
        machine.step(second)
    assert second.current == 2
    machine.step(second)  # 50: (41 * 0.5 + 30 + 8 * 0.5) / 50 ms > 0.75 ms
    assert second.current == 1  # the drift probe times one thread


def test_a_drift_probe_left_unfinished_is_finished_by_the_next_fit(monkeypatch):
    """A fit ends in the middle of a drift probe: the next fit of the same problem goes
    on with that probe, not with the answer the probe is revising."""
    machine, first = _probed_with_key(monkeypatch)
    assert first.current == 2
    machine.cost = {1: 1e-3, 2: 10e-3}  # busy
    for _ in range(threads.DRIFT_STEPS + 1):  # drift, then one probe step
        machine.step(first)
    first.close()
    second = threads.Tuner("auto", machine.set_threads, (1, 2), key="k")
    assert second.current == 1 and "resumed" not in second.info
    for _ in range(1 + threads.PROBE_ROUNDS):  # its own first step is not timed
        machine.step(second)
    assert second.info["probes"][-1]["reason"] == "drift"
    assert second.current == 1


def test_auto_probes_again_periodically_and_returns_to_two_threads():
    """On one thread (two were slower), the machine becomes idle: the next periodic
    probe, PERIOD_S of the fake clock later, switches to two threads."""
    machine = _Machine({1: 1e-3, 2: 3e-3})
    tuner = threads.Tuner("auto", machine.set_threads, (1, 2))
    for _ in range(1 + 2 * threads.PROBE_ROUNDS):
        machine.step(tuner)
    assert tuner.current == 1
    machine.cost = {1: 5e-3, 2: 50e-3}  # busier: one thread slower, still the best
    for _ in range(2 * threads.DRIFT_STEPS):
        machine.step(tuner)
    assert len(tuner.info["probes"]) == 1  # no drift probe on one thread
    machine.cost = {1: 1e-3, 2: 0.6e-3}
    steps = 0
    while len(tuner.info["probes"]) == 1:
        machine.step(tuner)
        steps += 1
        assert steps < 2 * threads.PERIOD_S / 1e-3, "no periodic probe"
    assert tuner.current == 2
    assert tuner.info["probes"][-1]["reason"] == "periodic"
    assert steps <= threads.PERIOD_S / 1e-3 + 10


def test_a_periodic_probe_that_agrees_doubles_the_period():
    machine = _Machine({1: 1e-3, 2: 3e-3})
    tuner = threads.Tuner("auto", machine.set_threads, (1, 2))
    for _ in range(int(4 * threads.PERIOD_S / 1e-3)):
        machine.step(tuner)
    probes = tuner.info["probes"]
    assert [p["reason"] for p in probes] == ["start", "periodic", "periodic"]
    gaps = [b["step"] - a["step"] for a, b in zip(probes, probes[1:])]
    assert gaps[1] > 1.8 * gaps[0]


def test_a_count_far_slower_in_the_probe_is_probed_no_further():
    """On a busy machine two threads are 10 times slower: after one such step (more
    than CUT times one thread's best) the probe stops trying them."""
    machine = _Machine({1: 1e-3, 2: 10e-3})
    tuner = threads.Tuner("auto", machine.set_threads, (1, 2))
    for _ in range(1 + 2 * threads.PROBE_ROUNDS):
        machine.step(tuner)
    [probe] = tuner.info["probes"]
    assert probe["threads"] == 1
    assert tuner.info["steps"][2] == 1


def test_a_fit_of_the_same_problem_soon_after_keeps_the_answer(monkeypatch):
    """fit called epoch by epoch: a tuner with the key of one that probed less than its
    period ago starts from that answer; after the period it probes again."""
    machine = _Machine({1: 1e-3, 2: 0.5e-3})
    monkeypatch.setattr(threads, "_LAST", {})
    monkeypatch.setattr(threads, "clock", lambda: machine.now)
    first = threads.Tuner("auto", machine.set_threads, (1, 2), key="k")
    for _ in range(10):
        machine.step(first)
    second = threads.Tuner("auto", machine.set_threads, (1, 2), key="k")
    assert second.current == 2 and not second.info["probes"]
    assert second.info["resumed"] == first.info["probes"][0]
    other = threads.Tuner("auto", machine.set_threads, (1, 2), key="another")
    assert other.info["probes"] == [] and "resumed" not in other.info  # probing
    machine.now += 2 * threads.PERIOD_S
    later = threads.Tuner("auto", machine.set_threads, (1, 2), key="k")
    assert "resumed" not in later.info


def test_a_probe_left_unfinished_by_a_short_fit_is_finished_by_the_next(monkeypatch):
    """fits of two steps each (a big layout, few rows): the probe goes on across them
    instead of starting again (which would keep every fit on its first count)."""
    machine = _Machine({1: 2e-3, 2: 1e-3})
    monkeypatch.setattr(threads, "_LAST", {})
    monkeypatch.setattr(threads, "_PENDING", {})
    monkeypatch.setattr(threads, "clock", lambda: machine.now)
    for _ in range(2 * threads.PROBE_ROUNDS):
        tuner = threads.Tuner("auto", machine.set_threads, (1, 2), key="big")
        for _ in range(2):  # the first step of each fit is not timed
            machine.step(tuner)
        tuner.close()
    assert tuner.info["probes"][-1]["threads"] == 2
    assert tuner.info["probes"][-1]["seconds_per_step"] == pytest.approx(
        {1: 2e-3, 2: 1e-3}
    )


def test_fixed_policies_and_no_candidates_do_not_probe():
    machine = _Machine({1: 1e-3, 2: 1e-3, 3: 1e-3})
    fixed = threads.Tuner(3, machine.set_threads, (1, 2))
    assert fixed.current == 3 and machine.threads_set == [3]
    for _ in range(20):
        machine.step(fixed)
    assert fixed.current == 3 and fixed.info["probes"] == []
    assert fixed.info["steps"] == {3: 20}
    untouched = threads.Tuner("all", machine.set_threads, (1, 2))
    assert untouched.current is None and machine.threads_set == [3]
    one_core = threads.Tuner("auto", machine.set_threads, (1, 1))
    for _ in range(20):
        machine.step(one_core)
    assert one_core.current == 1 and one_core.info["probes"] == []
    nothing = threads.Tuner("auto", None, (1, 2))  # no threadpoolctl
    assert nothing.current is None and not nothing.measuring


def _fake_clock_machine(monkeypatch, cost):
    """fit's clock and BLAS' thread setter replaced: a step on n threads lasts cost[n]."""
    state = {"threads": None, "now": 0.0, "reads": 0}

    class FakeLib:
        def get_num_threads(self):
            return 2

        def set_num_threads(self, n):
            state["threads"] = n

    def clock():
        # fit reads the clock twice per step: before and after it
        state["reads"] += 1
        if state["reads"] % 2 == 0:
            state["now"] += cost[state["threads"]]
        return state["now"]

    monkeypatch.setattr(threads, "_LAST", {})  # no answer from another test's fit
    monkeypatch.setattr(threads, "_PENDING", {})
    monkeypatch.setattr(threads, "_blas_libraries", lambda: [FakeLib()])
    monkeypatch.setattr(threads, "cores", lambda: 2)
    monkeypatch.setattr(threads, "clock", clock)
    return state


def test_fit_keeps_one_thread_when_two_are_slower_and_says_so(monkeypatch):
    monkeypatch.delenv(threads.ENV_VAR, raising=False)
    state = _fake_clock_machine(monkeypatch, {1: 1e-3, 2: 2e-3})
    net = refnet.Network.build([3, 4, 2], seed=0)
    X, y = np.ones((40, 3)), np.arange(40) % 2
    hist = net.fit(
        X, y, "softmax_cross_entropy", SGD(0.1), batch_size=2, progress=False
    )
    assert list(hist) == ["loss", "accuracy"]  # the keys stay Keras'
    info = hist.threads
    assert info["policy"] == "auto" and info["candidates"] == [1, 2]
    assert info["probes"][0]["threads"] == 1
    assert info["probes"][0]["seconds_per_step"] == pytest.approx({1: 1e-3, 2: 2e-3})
    assert info["steps"] == {1: 20 - threads.PROBE_ROUNDS, 2: threads.PROBE_ROUNDS}
    assert state["threads"] == 2  # restored to BLAS' own count afterwards


def test_fit_threads_argument_and_environment_override_the_probe(monkeypatch):
    _fake_clock_machine(monkeypatch, {1: 1e-3, 2: 0.1e-3})
    net = refnet.Network.build([3, 4, 2], seed=0)
    X, y = np.ones((8, 3)), np.arange(8) % 2
    hist = net.fit(
        X, y, "softmax_cross_entropy", SGD(0.1), batch_size=2, progress=False, threads=1
    )
    assert hist.threads == {"policy": 1, "probes": [], "steps": {1: 4}}
    monkeypatch.setenv(threads.ENV_VAR, "1")
    hist = net.fit(
        X, y, "softmax_cross_entropy", SGD(0.1), batch_size=2, progress=False
    )
    assert hist.threads == {"policy": 1, "probes": [], "steps": {1: 4}}
    monkeypatch.setenv(threads.ENV_VAR, "all")
    hist = net.fit(
        X, y, "softmax_cross_entropy", SGD(0.1), batch_size=2, progress=False
    )
    assert hist.threads == {"policy": "all", "probes": [], "steps": {None: 4}}


def test_results_differ_between_thread_counts_only_by_rounding():
    """fit under "auto" (whatever it measures here) against fit on one thread: the
    same weights to float64 rounding of a few sums."""
    X = np.random.default_rng(0).normal(size=(256, 64))
    y = np.arange(256) % 10
    nets = [refnet.Network.build([64, 128, 10], seed=0) for _ in range(2)]
    for net, policy in zip(nets, ("auto", 1)):
        net.fit(
            X,
            y,
            "softmax_cross_entropy",
            SGD(0.1),
            epochs=2,
            batch_size=32,
            seed=0,
            progress=False,
            threads=policy,
        )
    for a, b in zip(*(net.get_weights() for net in nets)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_a_blas_loaded_after_the_first_scan_is_seen(monkeypatch):
    """The controller is rebuilt when modules were imported since it was made."""
    pytest.importorskip("threadpoolctl")
    first = threads._controller()
    assert threads._controller() is first  # nothing imported: kept
    monkeypatch.setitem(sys.modules, "refnet_test_fake_module", object())
    assert threads._controller() is not first


def test_fit_runs_under_the_chosen_limit_and_restores_it():
    """NumPy's BLAS runs fit's products on the chosen thread count, restored after.

    The BLAS libraries refnet's controller knows are limited, NumPy's among them (NumPy
    is imported before refnet); the check looks at those (the controller is rebuilt
    when modules were imported since, so a BLAS loaded later is limited too)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    controller = threads._controller()
    known = {lib.filepath for lib in controller.lib_controllers}

    def numpys_blas(info):
        return [i for i in info if i["user_api"] == "blas" and i["filepath"] in known]

    blas = numpys_blas(threadpoolctl.threadpool_info())
    if not blas:
        pytest.skip("no BLAS library visible to threadpoolctl")
    bundled = [i for i in blas if "numpy" in i["filepath"]]
    everything = threadpoolctl.threadpool_info()
    if any("numpy" in i["filepath"] for i in everything if i["user_api"] == "blas"):
        assert bundled  # NumPy's own bundled OpenBLAS is among the limited ones
    before = [i["num_threads"] for i in blas]
    seen = []

    class Spy(SGD):
        def update_all(self, weights, grads):
            info = numpys_blas(threadpoolctl.threadpool_info())
            seen.append([i["num_threads"] for i in info])
            super().update_all(weights, grads)

    net = refnet.Network.build([3, 4, 2], seed=0)
    X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    net.fit(
        X, y, "softmax_cross_entropy", Spy(0.1), batch_size=2, progress=False, threads=1
    )
    assert seen and all(s == [1] * len(blas) for s in seen)
    after = [i["num_threads"] for i in numpys_blas(threadpoolctl.threadpool_info())]
    assert after == before
    with pytest.raises(ValueError, match="threads"):
        net.fit(X, y, "softmax_cross_entropy", SGD(0.1), progress=False, threads=0)


def test_fit_trains_a_subclass_own_gradients():
    """A subclass that overrides gradients (a student's derivation, which crosscheck checks)
    is what fit trains: every batch goes through it, and here it halves every gradient."""

    class Halved(refnet.Network):
        calls = 0

        def gradients(self, X, Y, loss="mse", *, out=None):
            Halved.calls += 1
            res = super().gradients(X, Y, loss)
            res.dW = [d / 2 for d in res.dW]
            res.db = [d / 2 for d in res.db]
            return res

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 2, 10)
    base = refnet.Network.build([3, 4, 2], seed=1)
    net = Halved(copy.deepcopy(base).layers)
    net.fit(
        X,
        y,
        "softmax_cross_entropy",
        SGD(0.2),
        batch_size=4,
        shuffle=False,
        progress=False,
    )
    assert Halved.calls == 3
    base.fit(
        X,
        y,
        "softmax_cross_entropy",
        SGD(0.1),
        batch_size=4,
        shuffle=False,
        progress=False,
    )
    for a, b in zip(net.get_weights(), base.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_a_replay_after_divergence_runs_each_step_on_its_own_count(monkeypatch):
    """Probes every few steps (a short period on the fake clock) put one- and two-thread
    steps in the last epoch; the last update diverges, fit replays that epoch, and every
    replayed step runs on the thread count it first ran with (the bit-for-bit promise)."""
    from refnet import training
    from refnet.training import Diverged

    _fake_clock_machine(monkeypatch, {1: 1e-3, 2: 0.5e-3})
    monkeypatch.setattr(threads, "PERIOD_S", 0.005)
    monkeypatch.setattr(threads, "MAX_PERIOD_S", 0.005)
    seen: dict = {}
    original = training._Steps.backprop

    def spy(self, order, start, stop, epoch):
        seen.setdefault((epoch, start), []).append(self.tuner.current)
        return original(self, order, start, stop, epoch)

    monkeypatch.setattr(training._Steps, "backprop", spy)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 8)), rng.integers(0, 3, 64)
    net = refnet.Network.build([8, 16, 3], seed=0)
    with (
        pytest.raises(Diverged, match="after its last step"),
        np.errstate(all="ignore"),
    ):
        net.fit(
            X,
            y,
            "softmax_cross_entropy",
            SGD(1e6),
            epochs=3,
            batch_size=4,
            seed=1,
            progress=False,
        )
    replayed = {key: counts for key, counts in seen.items() if len(counts) > 1}
    assert len(replayed) == 15  # the last epoch's first 15 of 16 steps
    assert all(len(set(counts)) == 1 for counts in replayed.values()), replayed
    assert {counts[0] for counts in replayed.values()} == {1, 2}
