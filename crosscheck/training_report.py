"""What every framework's training comparison fills in: TrainingReport and its tracker.

Below every framework's ``training.py`` (crosscheck/frameworks/<name>/training.py) and
above the tolerance: each step's weights go through :class:`Tracker`, which keeps the
worst step per weight tensor (TOL1 with :func:`training_rtol`) and the error relative to
the distance the weights moved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .report import Report, Row
from .tolerance import compare_tensor, policy_rtol


@dataclass
class TrainingReport(Report):
    """crosscheck's :class:`Report`, one row per gradient source and weight tensor.

    Each row (``update/W1``, ``tape/b2``, ...) is the worst step for that tensor; its note
    names the step and the error relative to the distance moved. ``rel_moved`` maps each
    row name to max over steps of max|got - ref| / max|ref - W0|. ``bounds`` holds
    measured bounds of rule differences with no exact conversion (against torch:
    ``update/rmsprop_epsilon``, crosscheck/frameworks/torch/training.py).
    """

    rel_moved: dict[str, float] = field(default_factory=dict)
    bounds: dict[str, float] = field(default_factory=dict)

    def worst_moved(self, source: str | None = None) -> float:
        """The largest error relative to the distance moved, over rows of ``source``."""
        return max(
            (v for k, v in self.rel_moved.items() if source in (None, k.split("/")[0])),
            default=0.0,
        )


def training_rtol(dtype, n: int, depth: int, steps: int) -> float:
    """TOL1's rtol = C eps sqrt(n) (depth-scaled), grown by sqrt(steps) for the updates."""
    return policy_rtol(dtype, n, depth) * math.sqrt(steps)


class Tracker:
    """The worst row per weight tensor across the steps."""

    def __init__(self, source: str, w0: list, rtol: float, names: list | None = None):
        self.source, self.w0, self.rtol = source, w0, rtol
        # the weights' names, ["W1", "b1", "W2", ...] (a layer without bias has no b)
        self.names = names or [f"{'Wb'[i % 2]}{i // 2 + 1}" for i in range(len(w0))]
        self.worst: dict[str, tuple[int, Row]] = {}
        self.rel_moved: dict[str, float] = {}

    def add(self, step: int, got: list, ref: list) -> None:
        for i, (g, r, w0) in enumerate(zip(got, ref, self.w0)):
            name = f"{self.source}/{self.names[i]}"
            row = compare_tensor(name, g, r, self.rtol)
            moved = float(np.abs(np.asarray(r, np.float64) - w0).max())
            err = row.max_abs_err
            rel = err / moved if moved else (0.0 if err == 0 else math.inf)
            self.rel_moved[name] = max(self.rel_moved.get(name, 0.0), rel)
            if name not in self.worst or row.ratio > self.worst[name][1].ratio:
                self.worst[name] = (step, row)

    def rows(self) -> list[Row]:
        out = []
        for name, (step, row) in self.worst.items():
            row.note = f"step {step}; err/moved {self.rel_moved[name]:.1e}" + (
                f"; {row.note}" if row.note else ""
            )
            out.append(row)
        return out
