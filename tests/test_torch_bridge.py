"""to_torch / from_torch: exact weight transfer between refnet and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import crosscheck  # noqa: E402
import refnet  # noqa: E402
from crosscheck.torch_bridge import torch_activation  # noqa: E402

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
            lambda nn: nn.Sequential(nn.Linear(2, 3, bias=False)),
            ValueError,
            "bias=False",
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
    """nn.LeakyReLU() has torch's default slope 0.01: read as refnet's leaky_relu(0.01)
    where refnet has slopes of its own, refused (naming 0.01) where it has only 0.2."""
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LeakyReLU())
    if hasattr(refnet.activations, "leaky_relu_name"):
        net = crosscheck.from_torch(module)
        assert net.layers[0].activation.negative_slope == 0.01
        back = crosscheck.to_torch(net)
        assert back[1].negative_slope == 0.01
    else:
        with pytest.raises(ValueError, match="0.01"):
            crosscheck.from_torch(module)
