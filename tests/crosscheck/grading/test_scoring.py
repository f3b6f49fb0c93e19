"""Partial credit: a quantity earns its points when its row matches; each lost point
carries the sentence that explains it (crosscheck/grading/grade.py, score_case). The
expected scores follow by hand from which quantities each planted mistake breaks."""

from __future__ import annotations

import numpy as np
import pytest

from crosscheck.grading.grade import _case_result, _student, replay, score_case
from crosscheck.grading.rubric import from_data
from crosscheck.mine.check import case_inputs
from tests.crosscheck.mine import own_backprops as ob


def drawn(points=10, **case):
    spec = dict(name="c", layout="4-6-3", activations=["sigmoid", "linear"], loss="mse")
    spec.update(case, points=points)
    return from_data(dict(function="f", case=[spec])).draw()[0]


def run(case, fn):
    """What the grader does with a student's answer: call, replay, score."""
    weights, X, Y = case_inputs(
        case.sizes, case.activations, case.loss, **case.kwargs()
    )
    return score_case(case, replay(case, fn(weights, X, Y), {}))


def test_a_right_answer_earns_every_point():
    got = run(drawn(), ob.keras_matrix_mse)
    assert (got["status"], got["score"], got["lost"]) == ("MATCH", 10.0, [])


def test_a_bias_mistake_keeps_the_weight_points():
    # db = mean of delta over the batch: db1 and db2 wrong, dW1 and dW2 right
    got = run(drawn(), ob.bug_bias_mean)
    assert got["status"] == "MISMATCH" and got["score"] == 5.0
    assert [x["quantity"] for x in got["lost"]] == ["db2", "db1"]
    assert "mean over the batch of delta2" in got["lost"][0]["why"]
    # db2 feeds nothing: db1's lost point is explained by db1's own mistake
    assert "db1 is the mean over the batch of delta1" in got["lost"][1]["why"]


def test_points_lost_below_a_wrong_delta_point_to_it():
    # tanh' taken at a instead of z: delta1 is wrong, so are dW1 and db1 it feeds
    case = drawn(activations=["tanh", "linear"], points={"dW": 2, "db": 2, "delta": 2})
    got = run(case, ob.bug_prime_at_a)
    assert [x["quantity"] for x in got["lost"]] == ["delta1", "dW1", "db1"]
    assert "evaluated at a[1] instead of z[1]" in got["lost"][0]["why"]
    for lost in got["lost"][1:]:
        assert lost["why"].startswith("after delta1, the first failing row: ")
    assert got["score"] == 3.0


def test_a_mistake_in_layer_1_keeps_layer_2():
    # W2 updated before it sends delta back: dW2 and db2 are right, layer 1 is not
    case = drawn(activations=["tanh", "linear"])
    got = run(case, ob.bug_stale_weights)
    assert got["score"] == 5.0
    assert {x["quantity"] for x in got["lost"]} == {"dW1", "db1"}
    assert "uses an updated W2" in got["lost"][0]["why"]


def test_a_quantity_not_returned_is_lost_and_said_so():
    case = drawn(points={"loss": 1, "dW": 2})
    got = run(case, lambda w, X, Y: ob.keras_matrix_mse(w, X, Y)["grads"])
    assert got["score"] == 2.0
    assert got["lost"] == [
        dict(quantity="loss", points=1.0, why="loss was not returned")
    ]


def test_an_in_place_change_is_replayed_into_the_diagnosis():
    case = drawn(activations=["tanh", "linear"])
    weights, X, Y = case_inputs(
        case.sizes, case.activations, case.loss, **case.kwargs()
    )
    before = [np.array(w) for w in weights]
    returned = ob.bug_stale_weights(weights, X, Y)  # changes weights[2] (W2)
    report = replay(case, returned, {"W2": weights[2]})
    assert any("changed weights W2 in place" in s for s in report.diagnosis)
    assert not np.array_equal(before[2], weights[2])


def test_errors_lose_the_whole_case():
    case = drawn()
    raised = _case_result(case, {"error": "raised ValueError: shapes"}, None)
    assert (raised["status"], raised["score"]) == ("ERROR", 0.0)
    assert {x["why"] for x in raised["lost"]} == {"raised ValueError: shapes"}
    died = _case_result(
        case, None, "did not return within 5 s while calling f on case 1"
    )
    assert died["lost"][0]["why"].startswith("did not return within 5 s")
    unreadable = _case_result(case, "the .npz holds an object array", None)
    assert "could not be read back" in unreadable["error"]


@pytest.mark.parametrize(
    "fns, status, score",
    [
        ((ob.keras_matrix_mse, ob.keras_matrix_mse), "MATCH", 20.0),
        ((ob.keras_matrix_mse, ob.bug_bias_mean), "MISMATCH", 15.0),
    ],
)
def test_a_student_adds_up_the_cases(fns, status, score):
    case = drawn()
    cases = [run(case, fn) for fn in fns]
    got = _student(dict(student="s"), cases)
    assert (got["status"], got["score"], got["max_score"]) == (status, score, 20.0)
    if status == "MATCH":
        assert got["diagnosis"] == "" and got["first_failure"] is None
    else:
        assert got["first_failure"] == "c: db2"
        assert "mean over the batch of delta2" in got["diagnosis"]
    errored = _student(dict(student="s"), [cases[0], _case_result(case, None, "boom")])
    assert (errored["status"], errored["score"], errored["error"]) == (
        "ERROR",
        10.0,
        "boom",
    )
