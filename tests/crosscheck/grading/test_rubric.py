"""The rubric: TOML read and checked key by key, hidden cases drawn from the secret,
points split per quantity (crosscheck/grading/rubric.py)."""

from __future__ import annotations

import numpy as np
import pytest

from crosscheck.grading.rubric import from_arguments, from_data, parse_bytes, read
from crosscheck.mine.check import case_inputs, check_backprop

BASE = dict(layout="4-6-3", activations="sigmoid", loss="mse")


def rubric(*cases, **top):
    data = dict(function="backprop", secret="s3cret", case=list(cases))
    data.update(top)
    return from_data(data)


def test_a_practice_case_is_what_crosscheck_mine_shows():
    (case,) = rubric(dict(BASE, name="p")).draw()
    assert (case.seed, case.batch, case.dtype, case.hidden) == (0, 8, "float64", False)
    seen = {}

    def record(weights, X, Y):
        seen.update(weights=weights, X=X, Y=Y)
        return weights

    check_backprop(record, [4, 6, 3], "sigmoid", "mse", tensorflow=False)
    weights, X, Y = case_inputs(
        case.sizes, case.activations, case.loss, **case.kwargs()
    )
    assert np.array_equal(X, seen["X"]) and np.array_equal(Y, seen["Y"])
    assert all(np.array_equal(a, b) for a, b in zip(weights, seen["weights"]))


def test_hidden_cases_follow_the_secret_and_stay_in_their_ranges():
    hidden = dict(
        BASE,
        name="h",
        hidden=True,
        layout=[4, [5, 9], 3],
        batch=[4, 16],
        dtype=["float64", "float32"],
    )
    one = rubric(hidden).draw()[0]
    assert one == rubric(hidden).draw()[0]  # same secret, same case
    draws = [rubric(hidden, secret=f"term {i}").draw()[0] for i in range(40)]
    assert len({d.seed for d in draws}) == 40
    assert {d.sizes[1] for d in draws} == set(range(5, 10))
    assert {d.batch for d in draws} <= set(range(4, 17))
    assert len({d.batch for d in draws}) > 5
    assert {d.dtype for d in draws} == {"float64", "float32"}
    assert all(d.sizes[0] == 4 and d.sizes[2] == 3 for d in draws)
    # another case name draws another case from the same secret
    assert rubric(dict(hidden, name="h2")).draw()[0].seed != one.seed


def test_a_number_of_points_is_split_over_dW_and_db():
    (case,) = rubric(dict(BASE, name="p", points=10)).draw()
    assert case.points == {"dW1": 2.5, "dW2": 2.5, "db1": 2.5, "db2": 2.5}
    (case,) = rubric(dict(BASE, name="p", points=6), convention="d2l").draw()
    assert case.points == {"dW1": 3.0, "dW2": 3.0}  # d2l: no biases


def test_a_table_of_points():
    points = {"dW": 2, "db": 1, "loss": 1, "dW1": 0.5, "delta2": 0.25}
    (case,) = rubric(dict(BASE, name="p", points=points)).draw()
    assert case.points == {
        "dW1": 1.5,
        "dW2": 1.0,
        "db1": 0.5,
        "db2": 0.5,
        "loss": 1.0,
        "delta2": 0.25,
    }
    assert case.max_score == 4.75


@pytest.mark.parametrize(
    "change, words",
    [
        (dict(colour="red"), "unknown key 'colour'"),
        (dict(points={"dV": 1}), "unknown quantity 'dV'"),
        (dict(points={"dW3": 1}), "unknown quantity 'dW3'"),
        (dict(points=-1), "points"),
        (dict(points={"dW": 0}), "worth no points"),
        (dict(batch=[4, 16]), "batch: ranges and lists are drawn for hidden cases"),
        (dict(layout=[4, [5, 9], 3]), "layout: ranges and lists"),
        (dict(hidden=True, seed=3), "seed: a hidden case draws its own"),
        (dict(hidden=True, batch=[9, 4]), "expected a range [lo, hi]"),
        (dict(hidden=True, dtype=["float16"]), "expected 'float64' or 'float32'"),
        (dict(activations=["relu"]), "case 1 ('p')"),
        (dict(loss="hinge2"), "case 1 ('p')"),
        (dict(layout="4-x-3"), "case 1 ('p')"),
    ],
)
def test_a_wrong_case_is_named(change, words):
    with pytest.raises(ValueError) as err:
        rubric(dict(BASE, name="p", **change))
    assert words in str(err.value)


def test_wrong_rubrics_are_named(tmp_path):
    with pytest.raises(
        ValueError, match="secret: hidden cases are drawn from a secret"
    ):
        rubric(dict(BASE, name="h", hidden=True), secret="")
    with pytest.raises(ValueError, match="case names must differ"):
        rubric(dict(BASE, name="p"), dict(BASE, name="p"))
    with pytest.raises(ValueError, match="function: expected the name"):
        rubric(dict(BASE, name="p"), function="not a name")
    with pytest.raises(ValueError, match="this convention has no biases"):
        rubric(dict(BASE, name="p", points={"db": 1}), convention="d2l")
    with pytest.raises(ValueError, match="convention"):
        rubric(dict(BASE, name="p"), convention="tutorial")
    bad = tmp_path / "rubric.toml"
    bad.write_text('function = "backprop"\n[[case]\n')
    with pytest.raises(ValueError, match="is not valid TOML"):
        read(bad)
    with pytest.raises(ValueError, match="cannot read"):
        read(tmp_path / "missing.toml")


def test_a_rubric_file(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text(
        """
title = "HW 3"
function = "backprop"
convention = "nielsen"
secret = "x"
timeout = 5
memory = "512 MiB"

[[case]]
name = "practice"
layout = "4-6-3"
activations = "sigmoid"
loss = "mse"
points = 2

[[case]]
name = "hidden"
hidden = true
layout = [4, [5, 9], 3]
activations = ["tanh", "linear"]
loss = "mse"
points = { dW = 2, db = 1, loss = 1 }
"""
    )
    r = read(path)
    assert (r.title, r.convention, r.timeout, r.memory) == (
        "HW 3",
        "nielsen",
        5.0,
        2**29,
    )
    practice, hidden = r.draw()
    assert practice.max_score == 2 and hidden.max_score == 4
    assert hidden.hidden and hidden.public() == dict(
        name="hidden", hidden=True, points=4
    )
    assert practice.public()["layout"] == "4-6-3"


def test_the_command_line_rubric():
    r = from_arguments("backprop", "4-6-3", "sigmoid", "mse", hidden=2, secret="k")
    cases = r.draw()
    assert [c.name for c in cases] == ["practice", "hidden 1", "hidden 2"]
    assert [c.hidden for c in cases] == [False, True, True]
    assert cases[1].seed != cases[2].seed
    with pytest.raises(ValueError, match="^activations"):
        from_arguments("backprop", "4-6-3", ["sigmoid"], "mse", secret="k")
    with pytest.raises(ValueError, match="^layout"):
        from_arguments("backprop", "4", "sigmoid", "mse", secret="k")


@pytest.mark.parametrize(
    "text, n",
    [("2 GiB", 2 * 2**30), ("512 MB", 512 * 10**6), (1000, 1000), ("1.5 KiB", 1536)],
)
def test_memory_sizes(text, n):
    assert parse_bytes(text) == n


@pytest.mark.parametrize("text", ["lots", "-1 GB", "2 PB", 0, True])
def test_wrong_memory_sizes(text):
    with pytest.raises(ValueError, match="memory: expected bytes"):
        parse_bytes(text)
