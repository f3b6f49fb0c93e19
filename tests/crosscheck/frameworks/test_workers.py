"""Each framework in its own worker process (crosscheck/frameworks/workers.py).

The frameworks here are test doubles, written to a temporary package: an honest oracle
that answers with refnet's own NumPy backprop (so no framework needs to be installed), one
that kills its own process with SIGSEGV, and a pair whose "native libraries" crash when
both are loaded in one process, as triton does beside TensorFlow.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import refnet
from crosscheck import cli, compare
from crosscheck import frameworks as oracles
from crosscheck.frameworks import workers

HONEST = """
NAME = LABEL = FRAMEWORK = "{name}"


def _load():
    {load}


def available():
    _load()
    return None


def describe():
    _load()
    return "{name} 1.0 (a NumPy test double)"


def build(net, l2=0.0):
    _load()
    {crash}
    return net, l2


def backprop(built, X, Y, loss, reduction="sum_over_batch_size", pins=None):
    import refnet

    net, l2 = built
    loss_obj = refnet.losses.get(loss, reduction=reduction)
    res = net.gradients(X, Y, loss_obj, l2=l2)
    return {{
        "loss": res.loss, "output": res.a[-1], "model_output": net.forward(X),
        "z": res.z, "a": res.a[1:], "y": loss_obj.prepare(Y, res.a[-1]),
        "delta": res.delta, "dW": res.dW, "db": res.db, "dX": res.dX,
    }}
"""

SEGFAULT = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
DOUBLES = {
    "honest": ("pass", "pass"),
    "crashy": ("pass", SEGFAULT),
    # side_a loads a "native library" (a marker module); side_b's crashes beside it
    "side_a": ("import fakefw.native_a", "pass"),
    "side_b": (
        "import sys, os, signal\n    if 'fakefw.native_a' in sys.modules: "
        "os.kill(os.getpid(), signal.SIGSEGV)",
        "pass",
    ),
}


@pytest.fixture
def fakefw(tmp_path, monkeypatch):
    """The doubles as oracles "honest", "crashy", "side_a", "side_b", importable here and
    in the workers (PYTHONPATH), with fresh workers for each test."""
    pkg = tmp_path / "fakefw"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "native_a.py").write_text("")
    for name, (load, crash) in DOUBLES.items():
        code = HONEST.format(name=name, load=load, crash=crash)
        (pkg / f"{name}.py").write_text(textwrap.dedent(code))
        monkeypatch.setitem(oracles.ORACLES, name, f"fakefw.{name}")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = os.pathsep.join(
        p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p
    )
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.setenv(workers.ENV, "process")
    workers.stop_all()
    yield tmp_path
    workers.stop_all()
    for name in [m for m in sys.modules if m.startswith("fakefw")]:
        del sys.modules[name]


def _data():
    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
    X = np.random.default_rng(1).normal(size=(5, 3))
    return net, X, np.array([0, 1, 1, 0, 1])


def test_a_crashing_oracle_becomes_a_crash_row_and_the_rest_goes_on(fakefw):
    net, X, y = _data()
    report = compare(net, X, y, "softmax_cross_entropy", oracle=("honest", "crashy"))
    assert not report.ok
    crash = report.first_failure
    assert crash.name == "crashy oracle" and crash.verdict == "CRASH"
    # the framework and its build (describe), the signal and the innermost frame
    assert crash.note.startswith("crashy 1.0 (a NumPy test double): its worker process")
    assert "SIGSEGV" in crash.note and "crashy.py" in crash.note
    assert "CRASH: crashy oracle" in str(report)
    # every quantity is still compared with the oracle that did not crash
    rest = [row for row in report.rows if row is not crash]
    assert [r.name for r in rest][:2] == ["loss", "output"] and len(rest) == 9
    assert all(r.ok and list(r.oracles) == ["honest"] for r in rest)
    # the next call gets a fresh worker, which crashes again, the same way
    again = compare(net, X, y, "softmax_cross_entropy", oracle=("honest", "crashy"))
    assert again.first_failure.verdict == "CRASH"


def test_a_worker_that_keeps_crashing_is_not_started_again(fakefw):
    net, X, y = _data()
    for _ in range(workers.MAX_CRASHES):
        compare(net, X, y, "softmax_cross_entropy", oracle=("honest", "crashy"))
    report = compare(net, X, y, "softmax_cross_entropy", oracle=("honest", "crashy"))
    assert f"not started again after {workers.MAX_CRASHES} crashes" in str(report)


def test_the_main_job_goes_on_past_a_crashed_oracle(fakefw, capsys):
    code = cli.main(["--layout", "3-4-2", "--oracle", "honest,crashy", "--batch", "4"])
    out, err = capsys.readouterr()
    assert code == 1
    # both cases ran (float32 and float64), each with its crash row, named
    assert out.count("FAIL at crashy oracle") == 2, out
    assert out.count("CRASH: crashy oracle") == 2
    assert "honest 1.0 (a NumPy test double)" in err and "crashy 1.0" in err


def test_frameworks_that_crash_each_other_in_one_process_run_side_by_side(fakefw):
    net, X, y = _data()
    report = compare(net, X, y, "softmax_cross_entropy", oracle=("side_a", "side_b"))
    assert report.ok, str(report)
    assert all(set(r.oracles) == {"side_a", "side_b"} for r in report.rows)


def test_the_double_really_crashes_one_shared_process(fakefw):
    """The proof that the test above tests something: inline, the same call dies."""
    code = (
        "import numpy as np, refnet, crosscheck\n"
        "from crosscheck import frameworks as oracles\n"
        "oracles.ORACLES.update(side_a='fakefw.side_a', side_b='fakefw.side_b')\n"
        "net = refnet.Network.build([3, 2], ['linear'], seed=0)\n"
        "crosscheck.compare(net, np.ones((2, 3)), np.ones((2, 2)), oracle=('side_a', 'side_b'))\n"
    )
    env = dict(os.environ, **{workers.ENV: "inline"})
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert proc.returncode == -signal.SIGSEGV


def test_an_exception_in_a_worker_is_raised_here_with_its_type(fakefw):
    with pytest.raises(ValueError, match="math domain error"):
        workers.call("honest", "math:sqrt", -1.0)
    assert workers.call("honest", "math:sqrt", 4.0) == 2.0  # the worker lives on


def test_known_conflicts_are_named_with_what_was_done(fakefw, monkeypatch):
    # numpy stands in for triton: a distribution that is installed
    conflict = (("honest", "crashy"), "numpy", "crashes its neighbour")
    monkeypatch.setattr(oracles, "CONFLICTS", [conflict])
    lines = oracles.describe(["honest", "crashy"])
    assert lines[:2] == [
        "honest 1.0 (a NumPy test double)",
        "crashy 1.0 (a NumPy test double)",
    ]
    assert lines[2] == (
        f"known conflict: numpy {np.__version__} crashes its neighbour; each framework "
        "runs in its own worker process, so the two never meet"
    )
    assert len(oracles.describe(["honest", "side_a"])) == 2  # no conflict there
    monkeypatch.setenv(workers.ENV, "inline")
    assert oracles.describe(["honest", "crashy"])[2].endswith(
        "CROSSCHECK_ISOLATION=inline puts them in one process: expect a crash (unset it "
        "to give each framework its own process)"
    )


def test_isolation_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(workers.ENV, "threads")
    with pytest.raises(ValueError, match="CROSSCHECK_ISOLATION: expected one of"):
        workers.mode()
    monkeypatch.delenv(workers.ENV)
    assert workers.mode() == "process"


def test_torch_optim_is_refused_where_it_would_crash_this_process(monkeypatch):
    """In this process (CROSSCHECK_ISOLATION=inline), with triton installed, TensorFlow
    loaded and torch's compiler stack not imported first, torch.optim would segfault:
    the torch training refuses, saying why and what to do."""
    from crosscheck.frameworks.torch import imports as torch_imports

    monkeypatch.setattr(torch_imports, "_has_triton", lambda: True)
    monkeypatch.setitem(sys.modules, "tensorflow", sys.modules.get("tensorflow", np))
    monkeypatch.delitem(sys.modules, "torch._dynamo", raising=False)
    with pytest.raises(RuntimeError, match="import torch before tensorflow"):
        torch_imports.check_optim_safe()
    monkeypatch.setattr(torch_imports, "_has_triton", lambda: False)  # the CPU build
    torch_imports.check_optim_safe()


@pytest.mark.parametrize("alone", [False, True], ids=["beside", "alone"])
def test_an_installed_third_framework_without_training_joins_the_main_job(
    tmp_path, alone
):
    """A framework installed as a package of its own (entry point "crosscheck.frameworks")
    with an oracle and no training slot: python -m crosscheck runs the matrix against it
    too, skips its training rows with a one-line note, and exits 0. Alone (TensorFlow,
    torch and JAX made unimportable), its backprop takes no dropout masks: the dropout
    case is skipped with a note, not the run."""
    shadow = tmp_path / "shadow"
    for name in ("tensorflow", "keras", "torch", "jax", "optax") if alone else ():
        (shadow / name).mkdir(parents=True)
        (shadow / name / "__init__.py").write_text(
            f"raise ImportError('No module named {name} (hidden by the test)')"
        )
    pkg = tmp_path / "thirdfw"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    code = HONEST.format(name="third", load="pass", crash="pass")
    (pkg / "oracle.py").write_text(
        textwrap.dedent(code).replace('"third"', '"Third"', 1)
    )
    info = tmp_path / "thirdfw-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: thirdfw\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        "[crosscheck.frameworks]\nthird = thirdfw.oracle\n"
    )
    first = [str(shadow)] if alone else []
    path = os.pathsep.join(
        p for p in (*first, str(tmp_path), os.environ.get("PYTHONPATH")) if p
    )
    env = dict(os.environ, PYTHONPATH=path, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop(workers.ENV, None)
    run = subprocess.run(
        [sys.executable, "-m", "crosscheck", "--dtype", "float64", "--loss", "mse"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    neither = "TF oracle skipped" in run.stderr and "torch oracle skipped" in run.stderr
    assert neither == alone or not alone  # hidden when asked; else as installed
    if neither:  # only the third oracle ran: the dropout case skipped, with a note
        assert "1 dropout case(s) skipped: no oracle that ran takes" in run.stderr
    assert "Third: no training rows (the framework has no training slot)" in run.stderr
    assert "third 1.0 (a NumPy test double)" in run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("PASS: refnet matches ") and last.endswith("Third"), last
    assert "train SGD float64 (" in run.stdout or "TF oracle skipped" in run.stderr


TRAINY = """
import os, signal


def run(report, net, batches, *args, **options):
    os.kill(os.getpid(), signal.SIGSEGV)
"""


def test_a_framework_whose_training_crashes_gives_a_crash_row(fakefw, monkeypatch):
    """A framework package with a training slot that dies: compare_training returns a
    report with a CRASH row naming it, and this process goes on."""
    from crosscheck.training import compare_training

    pkg = fakefw / "trainyfw"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    code = HONEST.format(name="trainy", load="pass", crash="pass")
    (pkg / "oracle.py").write_text(textwrap.dedent(code))
    (pkg / "training.py").write_text(
        TRAINY + 'TITLE = ""\nROW_SKIP = ()\nROW_RMSPROP = {}\n'
    )
    monkeypatch.setitem(oracles.ORACLES, "trainy", "trainyfw.oracle")
    net, X, y = _data()
    report = compare_training(
        net, X, y, "softmax_cross_entropy", "sgd", 2, oracle="trainy"
    )
    assert not report.ok and report.rows[-1].verdict == "CRASH"
    assert (
        "SIGSEGV" in report.rows[-1].note
        and "during run_training" in report.rows[-1].note
    )


def test_an_interrupted_call_never_hands_its_answer_to_the_next(fakefw):
    """Ctrl-C (here: an exception from a signal handler) while the worker is busy: the
    worker is stopped, so the next call gets its own answer, not the late one."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(KeyboardInterrupt):
            workers.call("honest", "time:sleep", 3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert workers.call("honest", "math:sqrt", 9.0) == 3.0
    assert workers.call("honest", "math:sqrt", 16.0) == 4.0


def test_calls_from_several_threads_each_get_their_own_answer(fakefw):
    import concurrent.futures

    values = [float(v) for v in range(1, 161)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        got = list(
            pool.map(lambda v: workers.call("honest", "math:sqrt", v * v), values)
        )
    assert got == values
    assert len(workers._WORKERS) == 1  # one worker for the framework, not one a thread


def test_arguments_a_worker_cannot_rebuild_run_in_this_process(fakefw):
    """A lambda (pickled by reference, it cannot cross) runs here instead: its result,
    not an error about pickling."""
    assert workers.call("honest", "builtins:sorted", [3, 1, 2], key=lambda v: -v) == [
        3,
        2,
        1,
    ]


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow"
)
def test_the_callers_process_never_imports_a_framework(tmp_path):
    """compare, compare_training and check_backprop, in a fresh process with the
    default isolation: neither tensorflow nor torch is imported there; and a Network
    subclass and an optimizer defined in __main__ (which a worker cannot import) are
    still checked, in this process."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import refnet, crosscheck
        from refnet.optimizers import SGD

        class MyNet(refnet.Network):
            pass

        class MySGD(SGD):
            pass

        net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
        X = np.random.default_rng(0).normal(size=(6, 3))
        y = np.array([0, 1, 1, 0, 1, 0])
        assert crosscheck.compare(net, X, y, "softmax_cross_entropy").ok
        assert crosscheck.compare_training(net, X, y, "softmax_cross_entropy", SGD(0.1), 2).ok
        assert crosscheck.check_backprop(
            lambda w, X, Y: [np.zeros_like(a) for a in w], [3, 2], "linear", "mse"
        ).reference.ok
        print("frameworks here:", [m for m in ("tensorflow", "torch") if m in sys.modules])
        mine = MyNet(net.layers)
        report = crosscheck.compare_training(mine, X, y, "softmax_cross_entropy",
                                             MySGD(0.1), 2)
        print("subclass:", report.ok)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != workers.ENV}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert "frameworks here: []" in run.stdout
    assert "subclass: True" in run.stdout


def test_an_oracle_without_masks_is_skipped_for_dropout_with_a_note(fakefw):
    """BP6: a framework whose backprop takes no ``masks`` (written before dropout) is
    left out of a dropout comparison with a note, and the others still compare; alone,
    it leaves nothing to compare with (ImportError, not a vacuous PASS). Without masks
    it is used as before."""
    pytest.importorskip("tensorflow")
    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0, dropout=0.5)
    X, Y = np.random.default_rng(1).normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])
    report = compare(
        net, X, Y, "softmax_cross_entropy", oracle=("tf", "honest"), masks=0
    )
    assert report.ok
    assert all(list(row.oracles) in ([], ["tf"]) for row in report.rows), report
    assert any("honest oracle skipped for dropout" in n for n in report.notes)
    with pytest.raises(ImportError, match="takes no masks"):
        compare(net, X, Y, "softmax_cross_entropy", oracle="honest", masks=0)
    assert compare(net, X, Y, "softmax_cross_entropy", oracle="honest").ok
