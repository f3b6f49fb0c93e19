"""crosscheck/mine/sandbox.py: one job in a child process; whatever it does, the caller
gets an Outcome naming the cause in words.

Most jobs are standard-library functions taking one argument (math:sqrt, sys:exit,
ctypes:string_at), so no job module is needed; the others are written into tmp_path.
"""

from __future__ import annotations

import os
import sys
import sysconfig

import pytest

from crosscheck.mine.sandbox import Limits, run

POSIX = pytest.mark.skipif(os.name != "posix", reason="signals and rlimits: POSIX only")
PROBE = """\
import os
import sys
import time

from crosscheck.mine.sandbox import stage


def where(payload):
    return {"path": sys.path, "cwd": os.getcwd(), "files": os.listdir(".")}


def sleep(payload):
    stage("sleeping")
    time.sleep(payload)


def spin(payload):
    while True:
        pass
"""


@pytest.fixture
def probe(tmp_path):
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "probe_mod.py").write_text(PROBE)
    return str(folder)


def test_the_result_comes_back_as_json_data():
    out = run("math:sqrt", 4.0)
    assert (out.result, out.error, out.returncode) == (2.0, None, 0)


def test_an_exception_is_named_with_its_traceback():
    out = run("math:sqrt", -1.0)
    assert out.kind == "exception" and out.result is None
    assert out.error.startswith("raised ValueError: math domain error\nTraceback")


def test_sys_exit_and_os_exit_are_named():
    assert run("sys:exit", 0).error == "called sys.exit(0)"
    out = run("os:_exit", 0)
    assert out.kind == "no result" and out.returncode == 0
    assert out.error == (
        "the process exited (code 0, as os._exit(0) does) without a result"
    )


@POSIX
def test_a_segfault_is_named_and_its_python_stack_kept():
    out = run("ctypes:string_at", 0)
    assert out.error == "the process died with signal SIGSEGV (segmentation fault)"
    assert "Fatal Python error: Segmentation fault" in out.stderr


def test_a_hang_is_stopped_at_the_timeout_and_the_stage_named(probe):
    out = run("probe_mod:sleep", 60, path=[probe], limits=Limits(timeout=1))
    assert (out.kind, out.error, out.stage) == (
        "timeout",
        "did not return within 1 s",
        "sleeping",
    )
    assert out.seconds < 20


@POSIX
def test_the_cpu_and_memory_limits(probe):
    out = run("probe_mod:spin", None, path=[probe], limits=Limits(cpu=1, timeout=30))
    assert out.error == "the process died with signal SIGXCPU (cpu time limit exceeded)"
    out = run("builtins:bytearray", 2**31, limits=Limits(memory=2**30))
    assert out.error.startswith("raised MemoryError\n")


def test_output_is_captured_and_cut_in_the_middle():
    out = run(
        "builtins:print",
        "a" * 600 + "b" * 50_000 + "c" * 600,
        limits=Limits(output=1000),
    )
    assert out.stdout.startswith("a" * 500) and out.stdout.endswith("c" * 499 + "\n")
    assert "bytes cut" in out.stdout and len(out.stdout) < 1100


def test_a_fresh_working_folder_and_a_path_the_user_cannot_shadow(
    probe, tmp_path, monkeypatch
):
    here = tmp_path / "here"
    here.mkdir()
    (here / "json.py").write_text("raise ImportError('shadowed')\n")
    monkeypatch.chdir(here)
    monkeypatch.syspath_prepend(str(here))
    monkeypatch.setattr(sys, "path", ["", *sys.path])
    out = run("probe_mod:where", None, path=[probe])
    assert out.error is None, out.error
    path, cwd = out.result["path"], out.result["cwd"]
    assert out.result["files"] == [] and cwd != str(here)
    assert "" not in path and str(here) not in path
    assert path[-1] == probe
    assert path.index(sysconfig.get_paths()["stdlib"]) < path.index(probe)


@pytest.mark.parametrize(
    "field, value", [("timeout", 0), ("cpu", -1.0), ("memory", "1G")]
)
def test_bad_limits_name_the_field(field, value):
    with pytest.raises(ValueError, match=f"{field}: expected a positive number"):
        run("math:sqrt", 4.0, limits=Limits(**{field: value}))
