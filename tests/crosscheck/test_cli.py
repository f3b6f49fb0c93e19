"""python -m crosscheck (crosscheck/cli.py): flags and files."""

from __future__ import annotations

import os

import pytest


def test_crosscheck_json_never_overwrites_without_force(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from crosscheck import cli

    out = tmp_path / "r.json"
    out.write_text("yesterday's results")
    argv = [
        "--layout",
        "3-5-2",
        "--dtype",
        "float64",
        "--batch",
        "3",
        "--no-training",
        "--json",
        str(out),
    ]
    assert cli.main(argv) == 2
    assert "--json" in capsys.readouterr().err
    assert out.read_text() == "yesterday's results"
    assert cli.main(argv + ["--force"]) == 0
    import json

    assert json.loads(out.read_text())["ok"] is True
    assert sorted(os.listdir(tmp_path)) == ["r.json"]  # no temporary file left
