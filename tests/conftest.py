"""Shared test settings: tolerances (named once, with the reason), hypothesis profile, rng.

Import the constants with ``from tests.conftest import FD_RTOL`` (tests/ is a package, so
this name cannot clash with docs/conftest.py).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# --- optional frameworks ------------------------------------------------------------

# README's commands leave torch out (pip's default torch on Linux is the CUDA build, GBs).
TORCH_SKIP = (
    "torch is not installed; add its CPU build: "
    "pip install torch --index-url https://download.pytorch.org/whl/cpu"
)


# torch before TensorFlow. Where torch ships triton (PyPI's CUDA build on Linux), the
# torch.optim these tests call in this process crashes it once TensorFlow is loaded,
# unless torch's compiler stack came first: import_torch sees to that.
if importlib.util.find_spec("torch") is not None:
    from crosscheck.frameworks.torch.imports import import_torch

    import_torch()


def importorskip_torch():
    """torch, or a skip whose one-line reason names the command that adds it."""
    return pytest.importorskip("torch", reason=TORCH_SKIP)


@pytest.fixture
def inline(monkeypatch):
    """Run the oracles in this process (CROSSCHECK_ISOLATION=inline): for tests that
    patch an oracle or hide a framework here, which a worker process would not see."""
    monkeypatch.setenv("CROSSCHECK_ISOLATION", "inline")


def assert_oracle_agrees(net, X, Y, loss="mse", oracle=None, **kwargs):
    """``crosscheck.compare(...)`` must pass, against every oracle asked for (None: every
    installed one): the report's table on failure, and a failure too when an asked-for
    oracle compared nothing (skipped, crashed). Returns the report. The one helper for
    "refnet and the frameworks agree here", as tinygrad's ``helper_test_op``."""
    import crosscheck
    from crosscheck import frameworks

    report = crosscheck.compare(net, X, Y, loss, oracle=oracle, **kwargs)
    assert report.ok, str(report)
    if oracle is None:  # every installed one
        asked = frameworks.select(None)[0]
    else:
        asked = [oracle] if isinstance(oracle, str) else list(oracle)
    for row in report.rows:
        assert sorted(row.oracles or asked) == sorted(asked), (row.name, row.oracles)
    return report


# --- tolerances ---------------------------------------------------------------------

# Central differences (FD1) in float64 with step h: truncation error ~ h^2 |f'''| / 6 and
# rounding error ~ eps |f| / h. With FD_STEP = 1e-6 both are ~1e-10 relative to the
# function's scale, so 1e-7 leaves three orders of margin and still catches any wrong
# formula (a wrong factor or sign is an O(1) relative error).
FD_STEP = 1e-6
FD_RTOL = 1e-7

# Whole-network checks go through refnet.gradcheck (step 1e-5, errors ~1e-10 relative to
# each tensor's largest entry). Deep tanh/sigmoid stacks and the categorical CE's division
# by the row sum amplify the rounding of L, so we allow 1e-5 relative to the tensor's scale.
NET_FD_RTOL = 1e-5

# Exact algebra evaluated two ways in float64 (e.g. (softmax - y) / n by hand against the
# loss's fused delta, a hand-summed gradient against res.dW): a few ulps per operation.
EXACT_RTOL = 1e-12

# The same algebra in float32 (eps ~ 1.2e-7) over short reductions.
FLOAT32_RTOL = 1e-5

# A central difference straddling a relu kink: the one-sided pieces are quadratic in the
# step (h = 1e-5), so "half the slope" holds to O(h) only.
KINK_FD_RTOL = 1e-4

# Sample standard deviation of ~30,000 initializer draws: its relative standard error is
# about 1 / sqrt(2 N) = 0.4 %, so 3 % is a ~7 sigma bound that still catches a wrong formula
# (glorot vs he, or a missing truncation correction, are 10 % or more apart).
SAMPLE_STD_RTOL = 0.03

# --- finite differences ------------------------------------------------------------


def central_difference(fn, x: np.ndarray) -> np.ndarray:
    """d fn() / dx entry by entry: (fn(x + h e_i) - fn(x - h e_i)) / 2h, h = FD_STEP
    max(1, |x_i|) (FD1). ``fn`` takes no arguments and reads ``x``, which is perturbed in
    place (so it may be a network's own weights) and restored entry by entry."""
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        h = FD_STEP * max(1.0, abs(saved))
        x[idx] = saved + h
        up = fn()
        x[idx] = saved - h
        down = fn()
        x[idx] = saved
        out[idx] = (up - down) / (2 * h)
    return out


# --- floating-point strictness ---------------------------------------------------------


@contextlib.contextmanager
def strict_numerics():
    """Fail on any Python warning and on NumPy overflow, division by zero or invalid ops.

    Underflow is the one floating-point event we allow: exp(-1000) rounding to 0 is the
    correctly rounded result (TensorFlow returns the same 0 for sigmoid(-1000)), NumPy
    ignores it by default so users never see a warning, and refusing it would mean
    clamping every exp argument and returning tiny nonzero values TF does not return.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


# --- hypothesis -------------------------------------------------------------------------

# deadline=None: timings on a shared 2-core machine are noise, not failures.
settings.register_profile(
    "refnet",
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow],
)
# A longer run on demand: HYPOTHESIS_PROFILE=thorough python -m pytest tests
settings.register_profile(
    "thorough", parent=settings.get_profile("refnet"), max_examples=500
)
# CI draws the same examples every run (derandomize), so a landing never depends on luck;
# a failure prints the example and its reproduction blob either way.
settings.register_profile(
    "ci", parent=settings.get_profile("refnet"), derandomize=True, print_blob=True
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "refnet")
)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator; tests pass it on explicitly so every draw is reproducible."""
    return np.random.default_rng(20240601)


# --- comparison helper ------------------------------------------------------------------


def assert_close(got, want, rtol: float, label: str) -> None:
    """|got - want| <= rtol * max(|want|, max|want|) elementwise, with a labelled failure.

    The error is measured against the tensor's scale (atol = rtol * max|want|, docs/design.md's
    TOL1 policy), so near-zero entries of a large tensor are not held to a relative bound
    that rounding alone cannot meet.
    """
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{label}: shape {got.shape}, expected {want.shape}"
    scale = np.maximum(np.abs(want), np.abs(want).max(initial=0.0))
    err = np.abs(got - want)
    bad = err > rtol * scale + np.finfo(np.float64).tiny
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, err, -1)), err.shape)
        raise AssertionError(
            f"{label}: {int(bad.sum())} of {err.size} entries off; worst at {i}: "
            f"got {got[i]!r}, expected {want[i]!r}, |err| {err[i]:.3g} > "
            f"rtol {rtol:g} * scale {scale[i]:.3g}"
        )
