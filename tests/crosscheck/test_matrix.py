"""The built-in matrix of python -m crosscheck (crosscheck/matrix.py): what it covers."""

from __future__ import annotations

import pytest

import refnet


def test_the_builtin_matrix_covers_every_activation_and_loss():
    """A matrix that silently dropped an activation or a loss would still pass."""
    pytest.importorskip("tensorflow")
    from crosscheck.matrix import builtin_matrix

    cases = builtin_matrix()
    # not leaky_relu(0.3)
    named = {a for c in cases for a in c.activations if "(" not in a}
    assert named == set(refnet.activations.names())
    assert {c.loss for c in cases} == set(refnet.losses.names())
    hidden = {a for c in cases for a in c.activations[:-1] if "(" not in a}
    assert hidden == set(refnet.activations.names())  # each one inside a network too
    unnormalised = [
        c
        for c in cases
        if c.loss == "categorical_cross_entropy" and c.activations[-1] != "softmax"
    ]
    assert {c.dtype for c in unnormalised} == {"float32", "float64"}


def test_the_builtin_matrix_covers_the_tutorials_keras_models():
    """Flatten (FL1), layers without bias and LeakyReLU's own slope, in both dtypes."""
    pytest.importorskip("tensorflow")
    from crosscheck.matrix import build_net, builtin_matrix, make_data

    cases = builtin_matrix()
    flat = [c for c in cases if c.input_shape == (28, 28)]
    no_bias = [c for c in cases if c.use_bias and not all(c.use_bias)]
    slope = [c for c in cases if "leaky_relu(0.3)" in c.activations]
    for found in (flat, no_bias, slope):
        assert {c.dtype for c in found} == {"float32", "float64"}
    net = build_net(no_bias[0])
    assert [layer.b is None for layer in net.layers] == [
        not b for b in no_bias[0].use_bias
    ]
    assert make_data(flat[0])[0].shape == (flat[0].batch, 28, 28)


def test_the_builtin_matrix_runs_dropout_in_training_mode():
    """BP6, BP7: dropout cases in both dtypes, each net built with its rates and compared
    with masks (the report's title says so), one of them the tutorials' 784-256-128-10."""
    pytest.importorskip("tensorflow")
    from crosscheck.matrix import build_net, builtin_matrix, run_case

    cases = [c for c in builtin_matrix() if c.dropout]
    assert {c.dtype for c in cases} == {"float32", "float64"}
    assert any(c.layout == (784, 256, 128, 10) for c in cases)
    assert build_net(cases[1]).dropout == list(cases[1].dropout)
    report = run_case(cases[1], oracle="tf")
    assert report.ok and "with dropout masks" in report.title
