"""The conventions of crosscheck mine (crosscheck/mine/conventions.py): their constant factors."""

from __future__ import annotations

from crosscheck.mine import conventions


def test_convention_factors_ls5():
    """LS5/LS6: the constant factor between each convention's cost and refnet's."""
    nielsen = conventions.get("nielsen")
    assert nielsen.factor("mse", 10) == 5 and nielsen.keras_reduction == "sum"
    assert conventions.get("keras").factor("mse", 10) == 1
    assert nielsen.factor("binary_cross_entropy", 3) == 3
    assert conventions.get("cs231n", l2=0.1, l2_form="half_sum").l2_eff == 0.05


def test_deeplearning_ai_intermediates_are_those_of_the_summed_cost():
    """deeplearning.ai's dAL has no 1/m (linear_backward puts it in dW and db only), so
    its dA<l>, dZ<l> are m times those of its mean cost; nowhere else."""
    assert conventions.get("deeplearning.ai").intermediates_factor(8) == 8
    assert (
        conventions.get("deeplearning.ai", reduction="sum").intermediates_factor(8) == 1
    )
    assert conventions.get("nnfs").intermediates_factor(8) == 1
