"""to_torch / from_torch: exact weight transfer between refnet and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import importorskip_torch

torch = importorskip_torch()

import crosscheck  # noqa: E402
import refnet  # noqa: E402
from crosscheck.frameworks.torch.bridge import torch_activation  # noqa: E402

ALL_ACTIVATIONS = refnet.activations.names()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_torch_same_weights_dtype_and_output(dtype, rng):
    """weight = W.T exactly, the net's dtype, and the output is refnet's forward (TOL1)."""
    net = refnet.Network.build([784, 256, 128, 10], seed=1, dtype=dtype)
    module = crosscheck.to_torch(net)
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 3
    for linear, layer in zip(linears, net.layers):
        assert linear.weight.dtype == getattr(torch, dtype)
        assert tuple(linear.weight.shape) == (layer.n_out, layer.n_in)
        np.testing.assert_array_equal(linear.weight.detach().numpy().T, layer.W)
        np.testing.assert_array_equal(linear.bias.detach().numpy(), layer.b)
    assert sum(p.numel() for p in module.parameters()) == net.count_params() == 235146
    X = rng.uniform(size=(3, 784)).astype(dtype)
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()
    assert out.dtype == dtype
    row = crosscheck.compare_tensor(
        "output", net.forward(X), out, crosscheck.policy_rtol(dtype, 784)
    )
    assert row.ok, row


@pytest.mark.parametrize("name", ALL_ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_activation_round_trips_and_matches_refnet(name, dtype, rng):
    """Each activation: exact round trip, and to_torch(net)(X) against refnet to TOL1."""
    net = refnet.Network(
        [
            refnet.Dense(5, 7, name, seed=0, dtype=dtype),
            refnet.Dense(7, 3, seed=1, dtype=dtype),
        ]
    )
    net.layers[0].b[:] = rng.normal(size=7)
    back = crosscheck.from_torch(crosscheck.to_torch(net))
    assert back.activations == ["silu" if name == "swish" else name, "linear"]
    assert back.dtype == net.dtype
    for got, want in zip(back.get_weights(), net.get_weights()):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    X = (rng.normal(size=(9, 5)) * 2).astype(dtype)
    with torch.no_grad():
        out = crosscheck.to_torch(net)(torch.from_numpy(X)).numpy()
    row = crosscheck.compare_tensor(
        "output", net.forward(X), out, crosscheck.policy_rtol(dtype, 9)
    )
    assert row.ok, row


def test_leaky_relu_slope_is_refnets_not_torchs_default():
    module = crosscheck.to_torch(
        refnet.Network.build([2, 3, 1], ["leaky_relu", "linear"])
    )
    assert module[1].negative_slope == 0.2 != torch.nn.LeakyReLU().negative_slope
    z = torch.tensor([-1.0], dtype=torch.float64)
    assert module[1](z).item() == -0.2  # exactly: the slope stays a double in float64


def test_gelu_exact_and_tanh_forms_differ():
    exact, approx = torch_activation("gelu"), torch_activation("gelu_tanh")
    assert exact.approximate == "none" and approx.approximate == "tanh"
    z = torch.linspace(-3, 3, 13, dtype=torch.float64)
    assert (exact(z) - approx(z)).abs().max().item() > 1e-4


def test_softmax_along_the_last_axis():
    net = refnet.Network.build([3, 4], ["softmax"])
    module = crosscheck.to_torch(net)
    with torch.no_grad():
        out = module(torch.ones(2, 3, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-15)


def test_from_torch_reads_a_torch_built_module():
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(4, 6),
        torch.nn.Tanh(),
        torch.nn.Linear(6, 2),
        torch.nn.Identity(),
    )
    net = crosscheck.from_torch(module)
    assert net.sizes == [4, 6, 2] and net.activations == ["tanh", "linear"]
    assert net.dtype == np.float32
    np.testing.assert_array_equal(net.layers[0].W, module[0].weight.detach().numpy().T)
    X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()
    assert crosscheck.compare_tensor(
        "output", net.forward(X), out, crosscheck.policy_rtol("float32", 6)
    ).ok


def test_from_torch_does_not_share_memory():
    module = crosscheck.to_torch(refnet.Network.build([2, 2], ["linear"]))
    net = crosscheck.from_torch(module)
    before = net.layers[0].W.copy()
    with torch.no_grad():
        module[0].weight.add_(1.0)
    np.testing.assert_array_equal(net.layers[0].W, before)


@pytest.mark.parametrize(
    "module, error, words",
    [
        (lambda nn: nn.Linear(2, 3), TypeError, "torch.nn.Sequential, got Linear"),
        (lambda nn: nn.Sequential(), ValueError, "empty Sequential"),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Conv1d(1, 1, 1)),
            TypeError,
            "module[1]",
        ),
        (lambda nn: nn.Sequential(nn.ReLU(), nn.Linear(2, 3)), ValueError, "module[0]"),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Tanh()),
            ValueError,
            "module[2]",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3), nn.ELU(alpha=0.5)),
            ValueError,
            "alpha",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)),
            ValueError,
            "dim=0",
        ),
        (
            lambda nn: nn.Sequential(nn.Flatten(start_dim=2), nn.Linear(2, 3)),
            ValueError,
            "module[0]: expected nn.Flatten() (start_dim=1, end_dim=-1",
        ),
        (
            lambda nn: nn.Sequential(nn.Flatten(end_dim=2), nn.Linear(2, 3)),
            ValueError,
            "end_dim=2",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Flatten(), nn.Linear(3, 1)),
            ValueError,
            "module[1]: expected nn.Flatten only before the first nn.Linear",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(-0.1)),
            ValueError,
            "module[1]: expected LeakyReLU with a finite negative_slope >= 0",
        ),
        (
            lambda nn: nn.Sequential(nn.Dropout(0.5)),
            ValueError,
            "expected at least one nn.Linear, got none",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Dropout1d(0.5)),
            TypeError,
            "module[1]: expected nn.Linear, a leading nn.Flatten, nn.Dropout",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)),
            ValueError,
            "layers[1]",
        ),
    ],
)
def test_from_torch_refuses_what_refnet_cannot_hold(module, error, words):
    with pytest.raises(error) as info:
        crosscheck.from_torch(module(torch.nn))
    assert words in str(info.value)


def test_to_torch_refuses_a_user_activation(monkeypatch):
    monkeypatch.setattr(
        refnet.activations, "_REGISTRY", dict(refnet.activations._REGISTRY)
    )
    refnet.activations.register("cube_tb", lambda z: z**3, lambda z: 3 * z**2)
    net = refnet.Network([refnet.Dense(2, 2, "cube_tb")])
    with pytest.raises(ValueError, match=r"net.layers\[0\].*'cube_tb'.*PyTorch"):
        crosscheck.to_torch(net)
    with pytest.raises(TypeError, match="net: expected refnet.Network"):
        crosscheck.to_torch("not a net")


def test_from_torch_keeps_the_slope_of_a_leaky_relu():
    """nn.LeakyReLU() has torch's default slope 0.01: read as refnet's leaky_relu(0.01),
    not as refnet's default 0.2, and written back with 0.01."""
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LeakyReLU())
    net = crosscheck.from_torch(module)
    assert net.activations == ["leaky_relu(0.01)"]
    assert net.layers[0].activation.negative_slope == 0.01
    back = crosscheck.to_torch(net)
    assert back[1].negative_slope == 0.01


# --- layers without bias, input_shape (nn.Flatten), Dropout, leaky_relu(SLOPE) -----------


def _torch_out(module, X) -> np.ndarray:
    """torch's own forward of module on X (eval mode: Dropout is the identity)."""
    module.eval()
    with torch.no_grad():
        return module(torch.from_numpy(X)).numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_without_bias_round_trip_exactly(dtype, rng):
    net = refnet.Network.build(
        [5, 6, 4, 3],
        ["tanh", "relu", "linear"],
        seed=2,
        dtype=dtype,
        use_bias=[False, True, False],
    )
    net.layers[1].b[:] = rng.normal(size=4)
    module = crosscheck.to_torch(net)
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    assert [lin.bias is None for lin in linears] == [True, False, True]
    back = crosscheck.from_torch(module)
    assert [layer.use_bias for layer in back.layers] == [False, True, False]
    assert back.layers[0].b is None and back.layers[2].b is None
    assert back.activations == net.activations and back.dtype == net.dtype
    for got, want in zip(back.get_weights(), net.get_weights(), strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    X = rng.normal(size=(7, 5)).astype(dtype)
    row = crosscheck.compare_tensor(
        "output",
        back.forward(X),
        _torch_out(module, X),
        crosscheck.policy_rtol(dtype, 7),
    )
    assert row.ok, row


def test_input_shape_becomes_a_leading_flatten_row_major(rng):
    """to_torch(net with input_shape (3, 4)) starts with nn.Flatten() and takes X of
    shape (n, 3, 4) as refnet does; the shape is not square, so a column-major flatten
    (or (4, 3)) would give other outputs, which the last assert shows."""
    net = refnet.Network.build(
        [12, 5, 2], ["tanh", "linear"], seed=3, input_shape=(3, 4)
    )
    module = crosscheck.to_torch(net)
    assert type(module[0]) is torch.nn.Flatten
    assert (module[0].start_dim, module[0].end_dim) == (1, -1)
    X = rng.normal(size=(6, 3, 4))
    out = _torch_out(module, X)
    assert out.shape == (6, 2)
    row = crosscheck.compare_tensor(
        "output", net.forward(X), out, crosscheck.policy_rtol("float64", 12)
    )
    assert row.ok, row
    # torch's Flatten is numpy's C-order reshape; the module after it sees the same rows
    np.testing.assert_array_equal(out, _torch_out(module[1:], X.reshape(6, 12)))
    transposed = _torch_out(module[1:], X.transpose(0, 2, 1).reshape(6, 12))
    assert np.abs(transposed - out).max() > 1e-3
    # already-flat X passes through the Flatten unchanged
    np.testing.assert_array_equal(_torch_out(module, X.reshape(6, 12)), out)
    # a net without input_shape has no Flatten
    plain = crosscheck.to_torch(refnet.Network.build([12, 2], ["linear"]))
    assert not any(isinstance(m, torch.nn.Flatten) for m in plain)


def test_from_torch_with_input_shape_gives_back_the_net():
    net = refnet.Network.build(
        [12, 5, 3],
        ["leaky_relu(0.3)", "softmax"],
        seed=4,
        input_shape=(3, 4),
        use_bias=[False, True],
    )
    back = crosscheck.from_torch(crosscheck.to_torch(net), input_shape=(3, 4))
    assert back.input_shape == (3, 4)
    assert back.activations == ["leaky_relu(0.3)", "softmax"]
    assert [layer.use_bias for layer in back.layers] == [False, True]
    for got, want in zip(back.get_weights(), net.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    # without input_shape the same module gives a net taking X already flattened
    assert crosscheck.from_torch(crosscheck.to_torch(net)).input_shape is None


@pytest.mark.parametrize(
    "input_shape, error, words",
    [
        ((4, 4), ValueError, "expected a shape of 12 entries"),
        ((3, 4, 1, 2), ValueError, "in_features=12"),
        ("3x4", TypeError, "input_shape: expected a tuple of ints"),
        ((3, -4), ValueError, "positive ints"),
    ],
)
def test_from_torch_validates_input_shape(input_shape, error, words):
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
    with pytest.raises(error) as info:
        crosscheck.from_torch(module, input_shape=input_shape)
    assert words in str(info.value)


def test_from_torch_refuses_a_multi_axis_input_shape_without_flatten():
    """Without nn.Flatten torch's Linear acts on the last axis of (n, 3, 4): not the net."""
    module = torch.nn.Sequential(torch.nn.Linear(12, 2))
    with pytest.raises(
        ValueError, match=r"input_shape: \(3, 4\) has 2 axes.*nn.Flatten"
    ):
        crosscheck.from_torch(module, input_shape=(3, 4))
    assert crosscheck.from_torch(module, input_shape=(12,)).input_shape is None


def test_from_torch_reads_the_pytorch_quickstart_model(rng):
    """The PyTorch quickstart's NeuralNetwork body (Flatten, Linear-ReLU stack), with a
    Dropout as the tutorials add: the net computes torch's eval-mode forward."""
    torch.manual_seed(0)
    nn = torch.nn
    module = nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, 64),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(64, 32),
        nn.Dropout(0.2),
        nn.LeakyReLU(0.3),
        nn.Linear(32, 10),
    )
    with pytest.warns(UserWarning, match=r"the nn.Dropout at module\[5\]"):
        net = crosscheck.from_torch(module, input_shape=(28, 28))  # before LeakyReLU
    assert net.sizes == [784, 64, 32, 10] and net.input_shape == (28, 28)
    assert net.activations == ["relu", "leaky_relu(0.3)", "linear"]
    X = rng.uniform(size=(5, 28, 28)).astype(np.float32)
    want = _torch_out(module, X)  # eval(): Dropout is the identity
    row = crosscheck.compare_tensor(
        "output", net.forward(X), want, crosscheck.policy_rtol("float32", 784)
    )
    assert row.ok, row
    module.train()  # the skipped Dropout really was active in training mode
    with torch.no_grad():
        assert not np.array_equal(module(torch.from_numpy(X)).numpy(), want)


def test_leaky_relu_with_its_own_slope_round_trips(rng):
    net = refnet.Network.build([3, 4, 2], ["leaky_relu(0.3)", "linear"], seed=5)
    module = crosscheck.to_torch(net)
    assert type(module[1]) is torch.nn.LeakyReLU and module[1].negative_slope == 0.3
    z = torch.tensor([-2.0, 0.0, 2.0], dtype=torch.float64)
    np.testing.assert_array_equal(module[1](z).numpy(), [-0.6, 0.0, 2.0])
    back = crosscheck.from_torch(module)
    assert back.activations == ["leaky_relu(0.3)", "linear"]
    assert back.layers[0].activation.negative_slope == 0.3
    X = rng.normal(size=(8, 3))
    row = crosscheck.compare_tensor(
        "output",
        back.forward(X),
        _torch_out(module, X),
        crosscheck.policy_rtol("float64", 8),
    )
    assert row.ok, row


@pytest.mark.parametrize("what", ["weight", "bias"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_from_torch_refuses_non_finite_weights_naming_the_module(what, bad):
    nn = torch.nn
    module = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    with torch.no_grad():
        getattr(module[2], what).view(-1)[0] = bad
    with pytest.raises(ValueError, match=rf"module\[2\]: its {what} holds NaN or inf"):
        crosscheck.from_torch(module)


def test_from_torch_refuses_a_bias_of_another_dtype():
    linear = torch.nn.Linear(2, 3)
    linear.bias = torch.nn.Parameter(linear.bias.detach().double())
    with pytest.raises(
        TypeError, match=r"module\[0\]: expected the bias in the weight's"
    ):
        crosscheck.from_torch(torch.nn.Sequential(linear))


# --- conversions that would be silently wrong, and modules without usable weights --------


def test_a_linear_subclass_overriding_forward_is_refused():
    """Its layers say x W + b; its forward adds 2: the probe batch shows it."""

    class Shifted(torch.nn.Linear):
        def forward(self, x):
            return super().forward(x) + 2.0

    module = torch.nn.Sequential(Shifted(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    with pytest.raises(
        ValueError, match=r"module: the converted network does not reproduce"
    ):
        crosscheck.from_torch(module)


def test_a_forward_hook_is_refused_and_the_modules_mode_kept():
    module = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )
    module.train()
    module[2].register_forward_hook(lambda m, inp, out: out * 1.1)
    with pytest.raises(ValueError, match=r"max \|difference\|"):
        crosscheck.from_torch(module)
    assert module.training
    # without the hook, the same module converts
    plain = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )
    assert crosscheck.from_torch(plain).sizes == [3, 4, 2]


@pytest.mark.parametrize(
    "make, error, match",
    [
        (
            lambda: torch.nn.Linear(3, 2, device="meta"),
            ValueError,
            r"module\[0\]: its weight lives on the meta device",
        ),
        (
            lambda: torch.nn.Linear(3, 2).to(torch.bfloat16),
            TypeError,
            r"module\[0\]: expected dtype float32 or float64, got bfloat16",
        ),
        (
            lambda: torch.nn.LazyLinear(2),
            ValueError,
            r"module\[0\]: LazyLinear is not initialised yet",
        ),
        (
            lambda: torch.nn.Linear(3, 0),
            ValueError,
            r"module\[0\]: Linear\(3, 0\) has no weights",
        ),
    ],
    ids=["meta", "bfloat16", "lazy", "empty"],
)
def test_modules_without_usable_weights_name_the_module(make, error, match):
    with pytest.raises(error, match=match):
        crosscheck.from_torch(torch.nn.Sequential(make()))
