"""Report and Row: what a crosscheck returns, one row per compared tensor.

Shared by :func:`crosscheck.compare` and the training comparison
(``crosscheck/training.py``): build rows with :func:`crosscheck.tolerance.compare_tensor`
and wrap them in a :class:`Report`. Row names use the docs' 1-based layer numbers
(``delta1``, ``dW1``, ``db1``; ``loss``, ``output``); training rows may use any name
(``step3/W1``).

``python -m crosscheck`` collects Reports. ``crosscheck.training.training_matrix()`` may
yield Reports, ``(label, Report)`` pairs or ``(label, callable returning a Report)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass
class Row:
    """One compared tensor (TOL1).

    Attributes
    ----------
    name : str
        ``loss``, ``output``, ``delta{l}``, ``dW{l}``, ``db{l}`` (l = 1..L), or any label.
    shape : tuple
        The reference tensor's shape.
    max_abs_err : float
        max |got - ref|.
    norm_err : float
        ||got - ref|| / ||ref|| (Frobenius).
    rtol, atol : float
        The tolerance used: pass when |got - ref| <= atol + rtol |ref| elementwise and
        norm_err <= rtol.
    ok : bool
        Whether the row passes.
    where : tuple or None
        Index of the worst element (largest error relative to its bound).
    ratio : float
        Worst error relative to the tolerance: the row passes when ratio <= 1.
    note : str
        Why the row failed outright (shape, dtype) or which quirk tolerance applies.
    scale : float
        max |ref|: ``max_abs_err / scale`` is the error relative to the tensor's scale.
    verdict : str
        "ok", "FAIL", or "NONFINITE" when both sides hold NaN or inf at the same entries:
        they "agree" on garbage, which checks nothing, so the row does not pass.
    """

    name: str
    shape: tuple
    max_abs_err: float
    norm_err: float
    rtol: float
    atol: float
    ok: bool
    where: tuple | None
    ratio: float
    note: str = ""
    scale: float = math.nan
    verdict: str = ""

    def __post_init__(self):
        if not self.verdict:
            self.verdict = "ok" if self.ok else "FAIL"

    @property
    def scaled_err(self) -> float:
        """max |got - ref| / max |ref| (0 when both are 0)."""
        if self.max_abs_err == 0:
            return 0.0
        return self.max_abs_err / self.scale if self.scale > 0 else math.inf


def _fmt(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.2e}"


@dataclass
class Report:
    """The rows of one crosscheck; ``ok`` when every row passes.

    ``str(report)`` is a table; the first failing row (rows are ordered loss, output,
    then layer L down to 1, the order in which backprop computes them) is named below it:
    that is where a bug first shows.
    """

    title: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def first_failure(self) -> Row | None:
        """The first failing row, or None when all pass."""
        return next((row for row in self.rows if not row.ok), None)

    @property
    def worst_ratio(self) -> float:
        """The largest error relative to tolerance over all rows (<= 1 passes)."""
        return max((row.ratio for row in self.rows), default=0.0)

    def row(self, name: str) -> Row:
        """The row called ``name``; KeyError listing the names otherwise."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no row {name!r}; rows are {[r.name for r in self.rows]}")

    def __str__(self) -> str:
        head = (
            f"{'quantity':<10}{'shape':<13}{'max abs err':>12}{'norm err':>10}"
            f"{'rtol':>10}{'err/tol':>9}  {'worst at':<12}result"
        )
        lines = [self.title, head, "-" * len(head)]
        for r in self.rows:
            where = "" if r.where is None else str(r.where)
            lines.append(
                f"{r.name:<10}{str(r.shape):<13}{_fmt(r.max_abs_err):>12}"
                f"{_fmt(r.norm_err):>10}{r.rtol:>10.1e}{r.ratio:>9.2g}  {where:<12}"
                f"{r.verdict}{'  ' + r.note if r.note else ''}"
            )
        first = self.first_failure
        if first is None:
            lines.append(f"PASS: {len(self.rows)} quantities agree")
        elif first.verdict == "NONFINITE":
            lines.append(
                f"NONFINITE: both sides hold NaN or inf from {first.name} on; nothing "
                "was compared there (overflow in the inputs or weights?)"
            )
        else:
            lines.append(f"FAIL: first mismatch at {first.name}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain data for JSON (infinities become strings)."""

        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return str(v)
            if isinstance(v, tuple):
                return list(v)
            return v

        return {
            "title": self.title,
            "ok": self.ok,
            "first_failure": None
            if self.first_failure is None
            else self.first_failure.name,
            "worst_ratio": clean(self.worst_ratio),
            "notes": self.notes,
            "rows": [{k: clean(v) for k, v in asdict(r).items()} for r in self.rows],
        }
