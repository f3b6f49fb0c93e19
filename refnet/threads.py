"""How many BLAS threads ``Network.fit`` runs its matrix products with.

NumPy's BLAS (OpenBLAS, MKL) splits each matrix product statically between its threads
and waits for the slowest; OpenBLAS' idle threads also spin for a while before sleeping.
On an idle machine a second thread makes a 784-256-128-10 step 1.4 times faster; on a
machine whose cores are busy (another process, a shared CI runner, a 2-vCPU notebook)
one of the threads is descheduled and every product waits for it: measured on 2 shared
cores, training with two threads ran up to 30 times slower than with one (chapter
"Speed"). Neither the layout nor the load average (which lags by a minute) tells the two
cases apart in time, so the policy measures:

    "auto" (the default): fit times its first steps at each candidate count (1 and the
            most threads BLAS may use here: the cores this process may run on, capped by
            BLAS' own setting), ``PROBE_ROUNDS`` steps each, one thread first, and
            keeps the faster median (a count whose probe step is ``CUT`` times slower
            than the other's best time is probed no further). On more than one thread,
            a step is slow beyond ``DRIFT`` times the count's time, or beyond ``NOISE``
            times one thread's probe time if that is less; fit probes again when
            ``DRIFT_STEPS`` steps in a row are slow, or when its last ``WINDOW`` steps
            are slow on average (a busy machine stalls single steps for tens of
            milliseconds: a few of them cost more than the fast steps between them
            save); the machine became busy (on one thread a slower step says the same,
            and more threads would only be slower). That drift probe times the other
            counts and judges the drifted one by the mean of its steps since its probe
            (at most ``WINDOW``, carried over from the last fit of the same problem);
            kept, its time is that mean from then on. And every
            ``PERIOD_S`` seconds (it became idle), the period doubling, up to
            ``MAX_PERIOD_S``, while the probes keep the same answer. A fit of the same
            layout, dtype and batch size goes on with the probe the last one left
            unfinished (within ``PERIOD_S`` of its end), or else, started within the
            period (fit called once per epoch), keeps the last answer and that fit's
            record of recent steps;
    an int n: n threads;
    "all": leave BLAS as it is (its own default, usually one thread per core).

The default can be changed with the environment variable ``REFNET_BLAS_THREADS`` (an int,
"auto" or "all"), and per call with ``fit(..., threads=...)``. ``fit``'s history records
the probes (``history.threads``). The thread count changes the speed, and the results
only to rounding: BLAS may sum a product in another order with another thread count (bit
for bit the same at one count; a replay after a divergence reruns each step at the
count it first ran with).
"""

from __future__ import annotations

import collections
import contextlib
import numbers
import os
import statistics
import sys
import time
from collections.abc import Callable

ENV_VAR = "REFNET_BLAS_THREADS"

PROBE_ROUNDS = 3  # timed steps per candidate in one probe (the median is kept)
DRIFT = 1.5  # a step this much slower than the chosen count's time is "slow"
DRIFT_STEPS = 2  # this many slow steps in a row: probe again
NOISE = 1.1  # on more threads, a step this much slower than one thread's time is slow
WINDOW = 50  # drift also when the last this many steps are slow on average; a drift
# probe judges the drifted count by the mean of its last (up to) this many steps
PERIOD_S = 5.0  # probe again after this long anyway ...
MAX_PERIOD_S = 80.0  # ... doubling while the answer stays the same, up to this

CUT = 3.0  # a probe step this much slower than another count's best ends its probing

# The clock steps are timed with (tests replace it with a fake one).
clock = time.perf_counter

# The last probe's answer per problem (layout, dtype, batch size): a fit called again
# within the probe period (epoch by epoch, as a notebook does) starts from it.
_LAST: dict = {}
# A probe a fit of few steps left unfinished, per problem: the next fit goes on with it.
_PENDING: dict = {}


def forget() -> None:
    """Drop the answers kept for later fits: the next fit of any problem probes afresh
    (as after a pause longer than the probe period; bench's quiet/busy switches)."""
    _LAST.clear()
    _PENDING.clear()


def resolve(threads) -> int | str:
    """The policy in force: ``threads`` if given, else $REFNET_BLAS_THREADS, else "auto"."""
    source = "threads"
    if threads is None:
        threads = os.environ.get(ENV_VAR, "auto")
        source = ENV_VAR
        if threads.strip().isdigit():
            threads = int(threads)
    if isinstance(threads, str) and threads in ("auto", "all"):
        return threads
    if (
        isinstance(threads, numbers.Integral)
        and not isinstance(threads, bool)
        and threads >= 1
    ):
        return int(threads)
    raise ValueError(
        f"{source}: expected a positive int, 'auto' or 'all', got {threads!r}"
    )


def cores() -> int:
    """The cores this process may run on."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return n or os.cpu_count() or 1


class Tuner:
    """The BLAS thread count of one ``fit`` call, fixed or chosen by timing its steps.

    ``set_threads(n)`` sets BLAS' thread count (None: nothing can be set, the policy is
    then a no-op); ``candidates`` are the counts "auto" chooses from. fit calls
    :meth:`record` after every step with the clock's readings around it; the tuner then
    sets the count for the next step itself. ``info`` is what ``history.threads`` shows:
    the policy, the candidates, every probe (the step it ended at, why it ran, the median
    seconds per step of each candidate probed, or for the count a drift probe judged
    (``"judged"``) the mean of its last steps, the count kept) and the steps run at each
    count.
    """

    def __init__(
        self,
        policy: int | str,
        set_threads: Callable[[int], None] | None,
        candidates: tuple[int, ...] = (1,),
        key=None,
    ):
        self._set = set_threads
        self.current: int | None = None  # the count in force (None: BLAS' own)
        self.measuring = False
        self.steps = 0
        self.info: dict = {"policy": policy, "probes": [], "steps": {}}
        if set_threads is None or policy == "all":
            return
        if isinstance(policy, int):
            self.apply(policy)
            return
        candidates = tuple(dict.fromkeys(candidates))  # 1 first, no repeats
        self.info["candidates"] = list(candidates)
        if len(candidates) == 1:
            self.apply(candidates[0])
            return
        self.candidates = candidates
        self.measuring = True
        self._period = PERIOD_S
        self._previous = None  # the last probe's answer
        self._skip = 1  # fit's first step allocates its buffers: not timed
        self._key = key
        pending = _PENDING.pop(key, None) if key is not None else None
        if pending is not None and clock() < pending["until"]:
            # the last fit of this problem ended mid-probe (a fit of a few steps, or
            # a drift probe: newer than the answer kept below): this one goes on with it
            self._schedule = list(pending["schedule"])
            self._samples = {c: list(v) for c, v in pending["samples"].items()}
            self._reason = pending["reason"]
            self._judged = pending["judged"]
            self.apply(self._schedule[0])
            return
        last = _LAST.get(key) if key is not None else None
        if last is not None and clock() < last["deadline"]:
            # a fit of the same problem probed a moment ago (fit called epoch by epoch):
            # its answer stands until its next periodic probe
            self.info["resumed"] = dict(last["probe"])
            self._previous = last["threads"]
            self._schedule = []
            self._period = last["period"]
            self._deadline = last["deadline"]
            self._limit = _slow_limit(
                last["probe"]["seconds_per_step"], last["threads"]
            )
            self._slow = 0
            self._start_record(last["recent"])
            self.apply(last["threads"])
            return
        self._probe("start")

    def close(self) -> None:
        """fit is done: a probe it did not finish is left for the next fit of the
        same problem (within PERIOD_S) to finish; else the next fit that resumes the
        answer goes on with this one's record of recent steps."""
        if not self.measuring or self._key is None:
            return
        if not self._schedule:
            last = _LAST.get(self._key)
            if last is not None:
                last["recent"] = list(self._recent)
        else:
            _PENDING[self._key] = {
                "schedule": list(self._schedule),
                "samples": {c: list(v) for c, v in self._samples.items()},
                "reason": self._reason,
                "judged": self._judged,
                "until": clock() + PERIOD_S,
            }

    def apply(self, n: int) -> None:
        """Run the next steps on n threads (a replay sets each step's own count)."""
        if n != self.current:
            self._set(n)
            self.current = n

    def _start_record(self, steps) -> None:
        """The record of recent step times (the last WINDOW) starts from ``steps``;
        ``_total`` is its sum, kept up step by step in :meth:`record`."""
        self._recent = collections.deque(steps, WINDOW)
        self._total = sum(self._recent)

    def _probe(self, reason: str) -> None:
        # each count's steps in a row, one thread first: just after steps on more,
        # OpenBLAS' idle threads still spin for a while and would slow a one-thread step
        # down on a loaded machine
        order = list(self.candidates)
        self._samples = {c: [] for c in order}
        self._judged = None  # the count judged by its recent steps, not probed
        if reason == "drift":
            self._judged = self.current
            # the count that drifted is not probed again but judged by the mean of its
            # last WINDOW steps, the slow ones and those before: on a busy machine a
            # few steps on two threads in a row can all fall in a moment when both
            # run (the scheduler shares the cores in slices of milliseconds), and a
            # fresh median of those would choose two threads again and again
            self._samples[self.current] = [self._total / len(self._recent)]
            order.remove(self.current)
        self._schedule = [c for c in order for _ in range(PROBE_ROUNDS)]
        self._reason = reason
        self.apply(self._schedule[0])

    def record(self, t0: float, t1: float) -> None:
        """A step ran from clock reading t0 to t1 on ``current`` threads."""
        self.steps += 1
        counts = self.info["steps"]
        counts[self.current] = counts.get(self.current, 0) + 1
        if not self.measuring:
            return
        if self._skip:
            self._skip -= 1
            return
        dt = t1 - t0
        if self._schedule:  # probing
            self._samples[self.current].append(dt)
            del self._schedule[0]
            others = [
                min(v) for c, v in self._samples.items() if c != self.current and v
            ]
            if others and dt > CUT * min(others):  # clearly slower: no more of it
                self._schedule = [c for c in self._schedule if c != self.current]
            if self._schedule:
                self.apply(self._schedule[0])
            else:
                self._decide(t1)
            return
        if len(self._recent) == WINDOW:
            self._total -= self._recent[0]
        self._recent.append(dt)
        self._total += dt
        # slow steps on one thread: the machine is busier, and more threads would only
        # wait for each other more; the periodic probe looks again
        if self.current > 1:
            self._slow = self._slow + 1 if dt > self._limit else 0
            slow_on_average = (
                len(self._recent) == WINDOW and self._total > WINDOW * self._limit
            )
            if self._slow >= DRIFT_STEPS or slow_on_average:
                self._probe("drift")
        if t1 > self._deadline and not self._schedule:
            self._probe("periodic")

    def _decide(self, now: float) -> None:
        times = {c: statistics.median(s) for c, s in self._samples.items()}
        best = min(times, key=times.get)
        # the same answer again: look less often; a change: look again soon
        self._period = (
            min(2 * self._period, MAX_PERIOD_S) if best == self._previous else PERIOD_S
        )
        self._previous = best
        probe = {
            "step": self.steps,
            "reason": self._reason,
            "seconds_per_step": times,
            "threads": best,
        }
        if self._judged is not None:
            probe["judged"] = self._judged
        self.info["probes"].append(probe)
        self.apply(best)
        # the count's time, the yardstick of "slow": its probe median, or, for the
        # drifted count kept, the mean of its last steps (it did get slower, though not
        # as slow as the others); its record of recent steps starts from it
        self._start_record(self._samples[best])
        self._limit = _slow_limit(times, best)
        self._slow = 0  # slow steps in a row
        self._deadline = now + self._period
        if self._key is not None:
            _LAST[self._key] = {
                "probe": self.info["probes"][-1],
                "threads": best,
                "recent": list(self._recent),
                "period": self._period,
                "deadline": self._deadline,
            }


def _slow_limit(times: dict, chosen: int) -> float:
    """Seconds beyond which a step on ``chosen`` threads is slow: DRIFT times the
    count's time, or NOISE times one thread's probe time if less (two threads that a
    busy machine made slower than one would have been, the margin for step-to-step
    noise where the two counts are close)."""
    limit = DRIFT * times[chosen]
    if chosen > 1 and 1 in times:
        limit = min(limit, NOISE * times[1])
    return limit


@contextlib.contextmanager
def tuned(threads, key=None):
    """The block runs under the policy ``threads`` resolves to (yields its
    :class:`Tuner`; ``key`` names the problem, for a later fit of the same one to start
    from this one's answer); BLAS' thread counts are restored afterwards. Without
    threadpoolctl (or a BLAS it can see) nothing is set."""
    policy = resolve(threads)
    libs = _blas_libraries() if policy != "all" else []
    if not libs:
        yield Tuner(policy, None)
        return
    before = [lib.get_num_threads() for lib in libs]

    def set_threads(n: int) -> None:
        for lib in libs:
            lib.set_num_threads(n)

    most = min(cores(), max(n or 1 for n in before))
    tuner = Tuner(policy, set_threads, (1, most), key)
    try:
        yield tuner
    finally:
        tuner.close()
        for lib, n in zip(libs, before):
            if n is not None:
                lib.set_num_threads(n)


@contextlib.contextmanager
def blas_limit(n: int | None):
    """Run the block with BLAS limited to ``n`` threads (threadpoolctl); None, or no
    threadpoolctl installed, leaves BLAS as it is."""
    controller = _controller() if n is not None else None
    if controller is None:
        yield
        return
    with controller.limit(limits=n, user_api="blas"):
        yield


_CONTROLLER: list = []  # [(len(sys.modules) when scanned, controller or None)]


def _controller():
    """threadpoolctl's view of the loaded BLAS libraries, or None without threadpoolctl.

    Scanning the process' libraries takes ~0.2 ms (setting a count ~1 us), so the view
    is kept, and rebuilt when modules were imported since: a BLAS loaded later (scipy's,
    torch's) comes with an import, and is limited too."""
    if not _CONTROLLER or (
        _CONTROLLER[0][1] is not None and _CONTROLLER[0][0] != len(sys.modules)
    ):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _CONTROLLER[:] = [(len(sys.modules), None)]
        else:
            _CONTROLLER[:] = [(len(sys.modules), ThreadpoolController())]
    return _CONTROLLER[0][1]


def _blas_libraries() -> list:
    """threadpoolctl's controllers of the loaded BLAS libraries ([] without it)."""
    controller = _controller()
    if controller is None:
        return []
    return list(controller.select(user_api="blas").lib_controllers)
