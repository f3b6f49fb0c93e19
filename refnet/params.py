"""Parameter counting and the Keras-like summary table.

A dense layer from n_{l-1} to n_l units holds n_{l-1} n_l weights and n_l biases, so

    params = sum over l = 1..L of (n_{l-1} n_l + n_l)                          (PC1)

3-5-2: (3*5 + 5*2) + (5 + 2) = 32.
"""

from __future__ import annotations

from . import activations as _activations
from .validation import check_dtype, check_sizes


def count_params(sizes) -> int:
    """Number of weights and biases of layout ``sizes`` = [n_0, ..., n_L] or "3-5-2" (PC1).

    >>> count_params([3, 5, 2])
    32
    """
    sizes = check_sizes(sizes)
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))


def layer_activations(sizes, activations=None) -> list[str]:
    """One activation name per layer of ``sizes``: ``None`` gives relu for the hidden
    layers and linear for the output; one name applies to every layer. Names are checked
    against the registry."""
    n_layers = len(sizes) - 1
    if activations is None:
        activations = ["relu"] * (n_layers - 1) + ["linear"]
    elif isinstance(activations, str):
        activations = [activations] * n_layers
    try:
        activations = list(activations)
    except TypeError:
        raise TypeError(
            f"activations: expected a name or one name per layer, got {activations!r}"
        ) from None
    if len(activations) != n_layers:
        raise ValueError(
            f"activations: expected {n_layers} (one per layer of {sizes}), "
            f"got {len(activations)}: {activations}"
        )
    names = []
    for i, a in enumerate(activations):
        try:
            names.append(_activations.get(a).name)
        # "activation: ..." -> "activations[i]: ..."
        except (
            TypeError,
            ValueError,
        ) as err:
            raise type(err)(
                f"activations[{i}]" + str(err)[len("activation") :]
            ) from None
    return names


def summary(sizes, activations=None, dtype="float64") -> str:
    """The summary table of a layout without building it (no weights are allocated).

    >>> print(summary("3-5-2").splitlines()[-2])
    Total params: 32
    """
    sizes = check_sizes(sizes)
    return format_summary(
        sizes, layer_activations(sizes, activations), check_dtype(dtype).name
    )


def format_summary(
    sizes,
    activations,
    dtype: str = "float64",
    use_bias=None,
    input_shape=None,
    dropout=None,
) -> str:
    """The table printed by ``Network.summary()`` and ``refnet summary``.

    ``use_bias`` (one bool per layer, default all True): a layer without bias has
    n_{l-1} n_l parameters. ``input_shape`` (a tuple, default None): the input is
    flattened first, shown as a ``flatten (Flatten)`` row with no parameters.
    ``dropout`` (one rate per layer, default none): a layer with a rate is followed by
    a ``dropout (Dropout r)`` row with no parameters, as Keras lists its Dropout layer.
    """
    sizes = check_sizes(sizes)
    use_bias = [True] * (len(sizes) - 1) if use_bias is None else list(use_bias)
    dropout = [0.0] * (len(sizes) - 1) if dropout is None else list(dropout)
    drops = 0
    rows = [("Layer (type)", "Output Shape", "Activation", "Param #")]
    if input_shape is not None:
        rows.append(("flatten (Flatten)", f"(None, {sizes[0]})", "", "0"))
    total = 0
    for i, (n_in, n_out, act, bias, rate) in enumerate(
        zip(sizes, sizes[1:], activations, use_bias, dropout)
    ):
        name = "dense" if i == 0 else f"dense_{i}"
        params = n_in * n_out + (n_out if bias else 0)  # PC1
        total += params
        kind = "Dense" if bias else "Dense, no bias"
        rows.append((f"{name} ({kind})", f"(None, {n_out})", act, f"{params:,}"))
        if rate:
            name = "dropout" if drops == 0 else f"dropout_{drops}"
            rows.append((f"{name} (Dropout {rate:g})", f"(None, {n_out})", "", "0"))
            drops += 1
    widths = [max(len(r[c]) for r in rows) + 2 for c in range(4)]

    def line(r):
        return "".join(c.ljust(w) for c, w in zip(r[:3], widths)) + r[3].rjust(
            widths[3]
        )

    rule = "-" * sum(widths)
    body = [line(rows[0]), "=" * sum(widths)] + [line(r) for r in rows[1:]]
    shape = (sizes[0],) if input_shape is None else tuple(input_shape)
    return "\n".join(
        [
            f'Model: "{"-".join(map(str, sizes))}" ({dtype})',
            rule,
            *body,
            "=" * sum(widths),
            f"Total params: {total:,}",
            f"Input shape: {(None, *shape)}",
        ]
    )
