"""Report and Row: what a crosscheck returns, one row per compared tensor.

Shared by :func:`crosscheck.compare` and the training comparison
(``crosscheck/training.py``): build rows with :func:`crosscheck.tolerance.compare_tensor`
and wrap them in a :class:`Report`. Row names use the docs' 1-based layer numbers
(``delta1``, ``dW1``, ``db1``; ``loss``, ``output``); training rows may use any name
(``step3/W1``).

With several oracles (``compare(..., oracle=("tf", "torch"))``) each row of a quantity
holds refnet against every oracle (``row.oracles``) and the oracles against each other
(``row.pairs``); :func:`combine` makes that row, and :func:`odd_one_out` names the one
party (refnet or an oracle) that disagrees with all the others while they agree.

``python -m crosscheck`` collects Reports. ``crosscheck.training.training_matrix()`` may
yield Reports, ``(label, Report)`` pairs or ``(label, callable returning a Report)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .messages import check_lang, language, msg


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
        "ok", "FAIL", "CRASH" (the row of an oracle whose worker process died), or
        "NONFINITE" when both sides hold NaN or inf at the same entries:
        they "agree" on garbage, which checks nothing, so the row does not pass.
    oracles : dict
        oracle name -> Row of refnet against that oracle (empty for a single
        comparison). The fields above are then those of the worst of them.
    pairs : dict
        (oracle, oracle) -> Row of the second against the first, same tolerance.
    odd : str
        The party that disagrees with every other while they agree ("refnet", "tf",
        "torch"), or "".
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
    oracles: dict = field(default_factory=dict, repr=False)
    pairs: dict = field(default_factory=dict, repr=False)
    odd: str = ""

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


def _label(name: str) -> str:
    from .frameworks import label  # (crosscheck.frameworks imports no framework)

    return label(name)


def crash_row(err, rtol: float) -> Row:
    """The failing row that stands for an oracle whose worker process died
    (``err``: a ``crosscheck.frameworks.workers.WorkerCrashed``)."""
    return Row(
        f"{_label(err.framework)} oracle",
        (),
        math.inf,
        math.inf,
        rtol,
        math.nan,
        False,
        None,
        math.inf,
        str(err),
        verdict="CRASH",
    )


def odd_one_out(parties: list[str], agree: dict) -> str:
    """The one party that disagrees with every other party while they all agree, or "".

    ``agree[(p, q)]`` says whether p and q agree, for every pair (either order). With
    fewer than three parties nobody can be singled out.
    """

    def ok(p, q):
        return agree[(p, q)] if (p, q) in agree else agree[(q, p)]

    if len(parties) < 3:
        return ""
    for p in parties:
        rest = [q for q in parties if q != p]
        if not any(ok(p, q) for q in rest) and all(
            ok(q, r) for i, q in enumerate(rest) for r in rest[i + 1 :]
        ):
            return p
    return ""


def combine(name: str, oracles: dict, pairs: dict | None = None) -> Row:
    """One row for a quantity from refnet-vs-oracle rows and oracle-vs-oracle rows.

    The row passes when refnet agrees with every oracle; its numbers are the worst
    oracle's; ``odd`` names the odd one out (see :func:`odd_one_out`).
    """
    pairs = pairs or {}
    worst = max(oracles.values(), key=lambda r: (not r.ok, r.ratio))
    agree = {("refnet", o): r.ok for o, r in oracles.items()}
    agree.update({pair: r.ok for pair, r in pairs.items()})
    odd = odd_one_out(["refnet", *oracles], agree) if pairs else ""
    skip = ("oracles", "pairs", "odd")
    fields = {k: v for k, v in asdict(worst).items() if k not in skip}
    fields.update(name=name, ok=all(r.ok for r in oracles.values()))
    if not fields["ok"] and fields["verdict"] == "ok":
        fields["verdict"] = "FAIL"
    return Row(**fields, oracles=dict(oracles), pairs=dict(pairs), odd=odd)


@dataclass
class Report:
    """The rows of one crosscheck; ``ok`` when every row passes.

    ``str(report)`` is a table; the first failing row (rows are ordered loss, output,
    then layer L down to 1, the order in which backprop computes them) is named below it:
    that is where a bug first shows. ``lang`` ("en" or "zh") is the language of the
    verdict lines under the table (crosscheck/messages/); the table itself is the same
    in every language.
    """

    title: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    lang: str = field(default="en", repr=False, compare=False)

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

    @property
    def odd_ones(self) -> dict[str, list[str]]:
        """{party: names of the rows where it is the odd one out}, in row order."""
        out: dict[str, list[str]] = {}
        for row in self.rows:
            if row.odd:
                out.setdefault(row.odd, []).append(row.name)
        return out

    def columns(self) -> tuple[list[str], list]:
        """Oracle names and oracle pairs of the rows, in the order first seen."""
        names, pairs = {}, {}
        for row in self.rows:
            names.update(dict.fromkeys(row.oracles))
            pairs.update(dict.fromkeys(row.pairs))
        return list(names), list(pairs)

    def __str__(self) -> str:
        return self.table()

    def table(self, verbose: bool = False, lang=None) -> str:
        """The report as text: ``str(report)``. Against three or more oracles the
        default is compact, one err/tol column per oracle and one for the worst pair of
        oracles; ``verbose`` shows every pair of oracles in its own column (as
        ``crosscheck -v`` does; the JSON always holds every pair). ``lang``: the
        verdict lines' language (None: the report's ``lang``)."""
        lang = self.lang if lang is None else check_lang(lang)
        with language(lang):
            return self._table(verbose)

    def _table(self, verbose: bool) -> str:
        names, pairs = self.columns()
        if len(names) <= 1:
            lines = self._single_table(names[0] if names else "")
        else:
            lines = self._oracle_table(names, pairs, compact=not verbose)
        first = self.first_failure
        if first is None:
            lines.append(msg("report.pass", n=len(self.rows)))
        elif first.verdict == "CRASH":
            lines.append(msg("report.crash", name=first.name))
        elif first.verdict == "NONFINITE":
            lines.append(msg("report.nonfinite", name=first.name))
        else:
            lines.append(msg("report.fail", name=first.name))
        odd = self.odd_ones
        if odd:
            parties = "; ".join(
                msg(
                    "report.odd_party",
                    party=_label(p),
                    k=len(rows),
                    n=len(self.rows),
                    first=rows[0],
                )
                for p, rows in odd.items()
            )
            lines.append(msg("report.odd_one_out", parties=parties))
        lines.extend(msg("report.note", note=note) for note in self.notes)
        return "\n".join(lines)

    def _single_table(self, oracle: str) -> list[str]:
        """Rows against one reference: max abs err, norm err, rtol, err/tol."""
        ratio = "err/tol" if not oracle else f"vs {_label(oracle)}"
        w = max([10] + [len(r.name) + 1 for r in self.rows])
        head = (
            f"{'quantity':<{w}}{'shape':<13}{'max abs err':>12}{'norm err':>10}"
            f"{'rtol':>10}{ratio:>9}  {'worst at':<12}result"
        )
        lines = [self.title, head, "-" * len(head)]
        for r in self.rows:
            where = "" if r.where is None else str(r.where)
            lines.append(
                f"{r.name:<{w}}{str(r.shape):<13}{_fmt(r.max_abs_err):>12}"
                f"{_fmt(r.norm_err):>10}{r.rtol:>10.1e}{r.ratio:>9.2g}  {where:<12}"
                f"{r.verdict}{'  ' + r.note if r.note else ''}"
            )
        return lines

    def _oracle_table(self, names: list[str], pairs: list, compact: bool) -> list[str]:
        """Rows against several oracles: err/tol of refnet against each and of each
        pair of oracles ("!" marks a disagreement), the odd one out in the result.
        "norm err" is left out (it is in the rows' data and JSON) to stay within ~100
        columns; for the same reason, with ``compact`` and three or more oracles the
        pairs share one column, "oracles": the worst pair's err/tol."""
        pooled = compact and len(pairs) > 1
        cols = [f"vs {_label(o)}" for o in names]
        if pooled:
            cols.append("oracles")
        else:
            cols += [f"{_label(p)}~{_label(q)}" for p, q in pairs]
        widths = [max(9, len(c) + 2) for c in cols]
        w = max([9] + [len(r.name) + 1 for r in self.rows])
        head = (
            f"{'quantity':<{w}}{'shape':<10}{'max abs err':>11}{'rtol':>8}"
            + "".join(f"{c:>{w}}" for c, w in zip(cols, widths))
            + f"  {'worst at':<10}result"
        )
        legend = "err/tol: refnet vs each oracle"
        if pairs:  # training reports have none
            legend += ", the worst pair of oracles" if pooled else ", oracle vs oracle"
        lines = [self.title, f"{'':<40}{legend}", head, "-" * len(head)]

        def ratio(r):
            if r is None:
                return "-"
            x = r.ratio
            text = "inf" if math.isinf(x) else f"{x:.0e}" if x >= 100 else f"{x:.2g}"
            return text + ("" if r.ok else "!")

        def worst_pair(r):
            found = [r.pairs[pair] for pair in pairs if pair in r.pairs]
            return max(found, key=lambda p: (not p.ok, p.ratio), default=None)

        for r in self.rows:
            where = "" if r.where is None else str(r.where).replace(" ", "")
            cells = [ratio(r.oracles.get(o)) for o in names]
            if pooled:
                cells.append(ratio(worst_pair(r)))
            else:
                cells += [ratio(r.pairs.get(pair)) for pair in pairs]
            odd = f" odd one out: {_label(r.odd)}" if r.odd else ""
            lines.append(
                f"{r.name:<{w}}{str(r.shape).replace(' ', ''):<10}"
                f"{_fmt(r.max_abs_err):>11}{r.rtol:>8.1e}"
                + "".join(f"{c:>{w}}" for c, w in zip(cells, widths))
                + f"  {where:<9} {r.verdict}{odd}{'  ' + r.note if r.note else ''}"
            )
        return lines

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
            "odd_one_out": self.odd_ones,
            "rows": [_row_dict(r, clean) for r in self.rows],
        }


def _row_dict(row: Row, clean) -> dict:
    """A row as plain data; its per-oracle and per-pair rows as {"vs tf": {...}}."""
    out = {k: clean(v) for k, v in asdict(row).items() if k not in ("oracles", "pairs")}
    for name, sub in row.oracles.items():
        out[f"vs {name}"] = _row_dict(sub, clean)
    for (p, q), sub in row.pairs.items():
        out[f"{p}~{q}"] = _row_dict(sub, clean)
    return out
