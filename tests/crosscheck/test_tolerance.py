"""TOL1, the crosscheck tolerance policy: why atol = rtol * max|ref|, and that it has teeth.

No TensorFlow needed: the "reference" here is the same computation in higher precision
(math.fsum, float64 for float32), an independent source for what honest rounding is.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import refnet
from crosscheck.frameworks import quirk_rtol
from crosscheck.frameworks.tf.oracle import QUIRKS
from crosscheck.tolerance import compare_tensor, magnitudes, policy_rtol

ROOT = Path(__file__).resolve().parents[2]
EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)


def exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b with every dot product summed exactly (math.fsum), rounded once to float64."""
    out = np.empty((a.shape[0], b.shape[1]))
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            out[i, j] = math.fsum(a[i, k] * b[k, j] for k in range(a.shape[1]))
    return out


def near_zero_case(rng):
    """a[0] is chosen so that entry (0, 0) of a @ b cancels to ~1e-16 from terms of size 1."""
    a = rng.normal(size=(6, 40))
    b = rng.normal(size=(40, 5))
    a[0, -1] = -(a[0, :-1] @ b[:-1, 0]) / b[-1, 0]
    return a, b


def test_tol1_rtol_formula():
    """TOL1: rtol = C eps sqrt(n), C = 10 scaled by depth / 4 beyond four layers."""
    assert policy_rtol("float64", 100) == pytest.approx(10 * EPS64 * 10)
    assert policy_rtol("float32", 784) == pytest.approx(10 * EPS32 * 28)
    assert policy_rtol("float64", 100, depth=4) == policy_rtol("float64", 100, depth=1)
    assert policy_rtol("float64", 100, depth=6) == pytest.approx(
        1.5 * policy_rtol("float64", 100)
    )


def test_tol1_plain_rtol_fails_near_zero_entries_ours_passes(rng):
    """An honest float64 matmul has a near-zero entry that a plain rtol (atol = 0) rejects."""
    a, b = near_zero_case(rng)
    ref = exact_matmul(a, b)
    got = a @ b  # BLAS: a different summation order, honest rounding
    rtol = policy_rtol("float64", 40)
    assert abs(ref[0, 0]) < 1e-14 * np.abs(ref).max()  # the near-zero entry exists
    assert got[0, 0] != ref[0, 0]  # ... and its rounding is an O(1) relative error
    assert not np.allclose(got, ref, rtol=rtol, atol=0)  # plain rtol: false alarm
    row = compare_tensor("z", got, ref, rtol)
    assert row.ok, row
    assert row.ratio < 1


def test_tol1_passes_honest_float32(rng):
    """float32 results against the exact result rounded to float32 pass; ratio well below 1."""
    a = rng.normal(size=(32, 300)).astype(np.float32)
    b = rng.normal(size=(300, 20)).astype(np.float32)
    ref = exact_matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.float32)
    got = a @ b
    assert not np.array_equal(got, ref)  # rounding did happen
    row = compare_tensor("z", got, ref, policy_rtol("float32", 300))
    assert row.ok and row.ratio < 0.5, row


def test_tol1_fails_1e6_relative_perturbation_float64(rng):
    """A float64 tensor off by 1e-6 relative (one entry, or all of them) fails."""
    a = rng.normal(size=(16, 64))
    b = rng.normal(size=(64, 10))
    ref = exact_matmul(a, b)
    rtol = policy_rtol("float64", 64)
    assert compare_tensor("dW", a @ b, ref, rtol).ok
    whole = (a @ b) * (1 + 1e-6)
    assert not compare_tensor("dW", whole, ref, rtol).ok
    one = a @ b
    i = np.unravel_index(np.argmax(np.abs(ref)), ref.shape)
    one[i] *= 1 + 1e-6
    row = compare_tensor("dW", one, ref, rtol)
    assert not row.ok and row.where == tuple(int(k) for k in i)


def test_tol1_normwise_catches_small_error_everywhere():
    """Every entry off by 1.5 rtol relative: inside the elementwise bound, caught normwise."""
    ref = np.full(100, 1.0)
    ref[0] = 4.0  # max|ref| = 4, so atol = 4 rtol covers 1.5 rtol on the ones
    rtol = 1e-10
    got = ref * (1 + 1.5 * rtol)
    err = np.abs(got - ref)
    assert (err <= rtol * 4 + rtol * np.abs(ref)).all()  # elementwise alone would pass
    assert not compare_tensor("db", got, ref, rtol).ok


def test_tol1_shape_dtype_and_nonfinite_fail():
    ref = np.ones((3, 2))
    assert "shape" in compare_tensor("dW1", ref.T, ref, 1e-12).note
    row = compare_tensor("dW1", ref.astype(np.float32), ref, 1e-12)
    assert not row.ok and "dtype float32" in row.note
    bad = ref.copy()
    bad[1, 1] = np.nan
    assert not compare_tensor("dW1", bad, ref, 1e-12).ok


def test_tol1_zero_reference():
    """All-zero ref (a dead relu layer): exact zeros pass, anything else fails."""
    ref = np.zeros((4, 3))
    assert compare_tensor("delta1", ref.copy(), ref, 1e-12).ok
    got = ref.copy()
    got[2, 1] = 1e-300
    row = compare_tensor("delta1", got, ref, 1e-12)
    assert not row.ok and row.where == (2, 1)


def test_tol1_magnitude_covers_cancellation(rng):
    """An output of 1e-3 summed from terms of size 1: float32 rounding is ~1e-7 of the
    terms, 1e-4 of the output. Against |ref| alone TOL1 fails honest float32; against the
    magnitude of the terms (magnitudes(): sqrt(sum of squares)) it passes, and a wrong
    value still fails. (In float32 such a cancelled entry is only known to ~1e-3 of
    itself: that is the information left, not a loose check.)"""
    a = rng.normal(size=(1, 200))
    w = rng.normal(size=(200, 1))
    w[-1, 0] -= (a @ w)[0, 0] / a[0, -1] - 1e-3 / a[0, -1]  # a @ w = 1e-3 exactly-ish
    ref = exact_matmul(a, w)
    assert abs(ref[0, 0]) < 2e-3
    a32, w32 = a.astype(np.float32), w.astype(np.float32)
    got = a32 @ w32
    ref32 = exact_matmul(a32.astype(np.float64), w32.astype(np.float64)).astype(
        np.float32
    )
    rtol = policy_rtol("float32", 200)
    layer = [(w32, np.zeros(1, np.float32), refnet.activations.get("linear"))]
    M = magnitudes(layer, a32, [ref32], [ref32], np.zeros((1, 1)), "mse")["output"]
    assert M[0, 0] > 100 * abs(ref32[0, 0])
    assert not compare_tensor("output", got, ref32, rtol).ok  # |ref| alone: false alarm
    assert compare_tensor("output", got, ref32, rtol, magnitude=M).ok
    # 100 % off
    assert not compare_tensor("output", got * 2, ref32, rtol, magnitude=M).ok


def test_quirk_rtol_only_float64_and_only_its_activations():
    assert quirk_rtol("float64", ["relu", "tanh", "linear"]) == (0.0, [])
    assert quirk_rtol("float32", ["leaky_relu", "gelu"]) == (0.0, [])
    floor, notes = quirk_rtol("float64", ["leaky_relu", "gelu", "leaky_relu"])
    assert floor == QUIRKS["leaky_relu"][0] and len(notes) == 2
    # the floor is far below a 1e-6 perturbation: the quirk tolerance still has teeth
    assert floor <= 1e-7


def test_import_crosscheck_does_not_import_tensorflow():
    """crosscheck imports TF lazily: importing it (and using TOL1) works without TF."""
    code = (
        "import sys, crosscheck, crosscheck.bugs, crosscheck.matrix, crosscheck.cli; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_tol1_one_entry_beyond_its_elementwise_bound_fails():
    """One entry off by 3 rtol in 1000 entries of size 1: the normwise error is tiny
    (3 rtol / sqrt(1000) < rtol) but the entry's own bound, atol + rtol |ref| = 2 rtol, is
    exceeded 1.5 times, so TOL1 fails the row; at 1.5 rtol (ratio 0.75) it passes."""
    rtol = 1e-10
    ref = np.ones(1000)
    for offset, ok, ratio in ((3 * rtol, False, 1.5), (1.5 * rtol, True, 0.75)):
        got = ref.copy()
        got[17] += offset
        row = compare_tensor("dW1", got, ref, rtol)
        assert row.ok is ok and row.where == (17,)
        assert row.ratio == pytest.approx(ratio, rel=1e-3)


def test_compare_tensor_never_passes_nan_or_inf():
    from crosscheck.tolerance import compare_tensor

    both = compare_tensor("dW1", np.array([1.0, np.nan]), np.array([1.0, np.nan]), 1e-6)
    assert not both.ok and both.verdict == "NONFINITE" and both.where == (1,)
    one = compare_tensor("dW1", np.array([1.0, np.inf]), np.array([1.0, 2.0]), 1e-6)
    assert not one.ok and one.verdict == "FAIL"
    fine = compare_tensor("dW1", np.array([1.0, 2.0]), np.array([1.0, 2.0]), 1e-6)
    assert fine.ok and fine.verdict == "ok"
