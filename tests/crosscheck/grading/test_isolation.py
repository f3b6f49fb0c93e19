"""crosscheck/mine/sandbox.py's isolation for ``crosscheck grade``: no network, hidden
folders, a clean environment; and, where ``unshare`` fails, the sentence saying so.

The checks are made from inside the child (a job module written into tmp_path): it
connects to a socket this test listens on, lists and writes a folder this test filled.
Where this machine cannot make namespaces, the tests that need them skip with the
probe's reason; the fallback itself is tested by making the probe fail.
"""

from __future__ import annotations

import os
import socket
import sys

import pytest

from crosscheck.mine import sandbox
from crosscheck.mine.sandbox import Limits, clean_env, run

JOBS = """\
import os
import socket
import subprocess
import time


def connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as exc:
        return type(exc).__name__
    return "connected"


def look(folder):
    seen = sorted(os.listdir(folder))
    try:
        with open(os.path.join(folder, "planted.py"), "w") as fh:
            fh.write("x = 1")
        wrote = "wrote"
    except OSError as exc:
        wrote = type(exc).__name__
    subprocess.run(["umount", folder], capture_output=True)  # root in its namespace
    return {"seen": seen, "wrote": wrote, "after umount": sorted(os.listdir(folder))}


def sleep(seconds):
    time.sleep(seconds)
"""
CUT = "network cut off (a Linux network namespace)"


@pytest.fixture
def jobs(tmp_path):
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "iso_jobs.py").write_text(JOBS)
    return [str(folder)]


@pytest.fixture
def listening():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    yield server.getsockname()[1]
    server.close()


def needs(cut: bool, hiding: bool):
    why = sandbox._probe(cut, hiding)
    if why is not None:
        pytest.skip(f"no namespaces on this machine: {why}")


@pytest.fixture
def unprobed(monkeypatch):
    """A fresh probe cache, restored after the test."""
    monkeypatch.setattr(sandbox, "_PROBES", {})


def test_a_child_without_network_cannot_reach_a_local_port(jobs, listening):
    needs(cut=True, hiding=False)
    out = run("iso_jobs:connect", listening, path=jobs, network=False)
    assert (out.result, out.isolation) == ("OSError", CUT)  # ENETUNREACH: lo is down
    out = run("iso_jobs:connect", listening, path=jobs)  # the same job, network kept
    assert (out.result, out.isolation) == ("connected", "")


def test_a_hidden_folder_is_empty_read_only_and_stays_so(tmp_path, jobs):
    needs(cut=True, hiding=True)
    others = tmp_path / "others"
    others.mkdir()
    (others / "alice.py").write_text("def backprop(w, X, Y): ...")
    out = run("iso_jobs:look", str(others), path=jobs, network=False, hide=[others])
    assert out.isolation == f"{CUT}; 1 folder hidden"
    assert out.result == {"seen": [], "wrote": "OSError", "after umount": []}
    assert os.listdir(others) == ["alice.py"]  # nothing planted
    out = run("iso_jobs:look", str(others), path=jobs)  # not hidden: seen
    assert out.result["seen"] == ["alice.py"] and out.result["wrote"] == "wrote"


def test_a_hang_under_unshare_is_still_killed_at_the_timeout(jobs):
    needs(cut=True, hiding=False)
    out = run(
        "iso_jobs:sleep", 30, path=jobs, network=False, limits=Limits(timeout=0.5)
    )
    assert (out.kind, out.error) == ("timeout", "did not return within 0.5 s")
    assert out.seconds < 10


def test_clean_env_keeps_only_what_a_child_needs(tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSCHECK_SECRET", "the rubric's secret")
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    env = clean_env(tmp_path)
    assert env == {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_CORETYPE": "Haswell",
    }
    assert run("os:getenv", "CROSSCHECK_SECRET", env=env).result is None
    assert run("os:getenv", "CROSSCHECK_SECRET").result == "the rubric's secret"


def test_when_unshare_fails_the_child_still_runs_and_the_outcome_says_why(
    tmp_path, monkeypatch, unprobed
):
    monkeypatch.setattr(sandbox, "_UNSHARE", "crosscheck-no-such-unshare")
    out = run("math:sqrt", 4.0, network=False)
    assert out.result == 2.0
    assert out.isolation == (
        "the network could not be cut off: crosscheck-no-such-unshare -rn failed: "
        "[Errno 2] No such file or directory: 'crosscheck-no-such-unshare'"
    )
    out = run("math:sqrt", 9.0, network=False, hide=[tmp_path, tmp_path])
    assert out.result == 3.0
    assert out.isolation.startswith(
        "the network could not be cut off nor 2 folders hidden: "
        "crosscheck-no-such-unshare -rnm failed: "
    )


def test_when_only_hiding_fails_the_network_is_still_cut_off(
    tmp_path, jobs, monkeypatch, unprobed, listening
):
    needs(cut=True, hiding=False)
    monkeypatch.setitem(sandbox._PROBES, (True, True), "unshare -rnm failed: forced")
    (tmp_path / "others").mkdir()
    (tmp_path / "others" / "bob.py").write_text("")
    out = run(
        "iso_jobs:look",
        str(tmp_path / "others"),
        path=jobs,
        network=False,
        hide=[tmp_path / "others"],
    )
    assert out.isolation == (
        f"{CUT}; 1 folder could not be hidden: unshare -rnm failed: forced"
    )
    assert out.result["seen"] == ["bob.py"]
    assert (
        run("iso_jobs:connect", listening, path=jobs, network=False).result == "OSError"
    )


def test_the_probe_runs_once_per_process(monkeypatch, unprobed):
    calls = []
    monkeypatch.setattr(sandbox, "_try_unshare", lambda *key: calls.append(key))
    for _ in range(3):
        run("math:sqrt", 1.0, network=False)
    assert calls == [(True, False)]


def test_a_hidden_folder_must_exist_and_not_hold_what_the_child_needs(tmp_path):
    with pytest.raises(ValueError, match="hide: expected existing folders, got"):
        run("math:sqrt", 1.0, hide=[tmp_path / "missing"])
    with pytest.raises(TypeError, match="hide: expected a list of folders"):
        run("math:sqrt", 1.0, hide=str(tmp_path))
    with pytest.raises(ValueError, match="which the child needs"):
        run("math:sqrt", 1.0, hide=[sys.prefix])
