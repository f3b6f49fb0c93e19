"""The rubric: which cases a class is graded on, their points, and the secret the hidden
ones are drawn from.

A rubric is a TOML file (chapter 12, "Grading a class", has the full format)::

    title = "Homework 3: backprop by hand"
    function = "backprop"              # the function every submission defines
    convention = "nielsen"             # a crosscheck mine preset; any axis may follow
    secret = "change me each term"     # the hidden cases are drawn from it
    forbid = ["refnet", "crosscheck", "torch"]  # modules a submission may not import
    timeout = 60                       # wall-clock seconds per submission, all its cases
    memory = "2 GiB"                   # address space per submission

    [[case]]
    name = "sigmoid + MSE"
    layout = "4-6-3"
    activations = "sigmoid"
    loss = "mse"
    points = 4                         # split evenly over dW_l and db_l

    [[case]]
    name = "a network you have not seen"
    hidden = true
    layout = [4, [5, 9], 3]            # a width drawn from 5..9
    activations = ["tanh", "linear"]
    loss = "mse"
    batch = [4, 16]                    # drawn from 4..16
    dtype = ["float64", "float32"]     # one of them, drawn
    points = { dW = 2, db = 1, loss = 1 }

A practice case (``hidden = false``, the default) is the one ``crosscheck mine`` shows for
the same arguments: seed 0 and batch 8 unless given. A hidden case draws its seed (so its
weights and batch), and every range or list above, from a generator seeded by a hash of
the secret and the case's name: the same secret draws the same cases, so a run can be
resumed and a regrade gives the same scores; a new secret draws new ones.

:func:`read` reads a file, :func:`from_arguments` builds the rubric of ``crosscheck grade``'s
flags; :meth:`Rubric.draw` gives the concrete cases (:class:`Drawn`), each checked once by
building its inputs, so a rubric mistake is a ValueError naming the case before any
student's code runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np

import refnet
from refnet.files import check_path

from ..mine import conventions
from ..mine.check import case_inputs

__all__ = ["Drawn", "Rubric", "from_arguments", "read", "parse_bytes"]

# the convention's axes a rubric (or one case) may set, besides the preset's name
AXES = (*conventions.CHOICES, "l2", "use_bias")
KEYS = {
    "title",
    "function",
    "convention",
    "secret",
    "timeout",
    "memory",
    "forbid",
    "case",
    *AXES,
}
CASE_KEYS = {
    "name",
    "hidden",
    "layout",
    "activations",
    "loss",
    "points",
    "dtype",
    "batch",
    "seed",
    *AXES,
}
GROUPS = ("dW", "db", "delta")  # split evenly over the layers
SINGLE = ("loss", "output", "dX")
_PER_LAYER = re.compile(r"^(dW|db|delta)([1-9][0-9]*)$")
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10}
_UNITS.update(mib=2**20, gib=2**30)
DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY = 2 * 2**30
# modules a submission may not import: the grader's own reference (the answer)
DEFAULT_FORBID = ("refnet", "crosscheck")


@dataclass(frozen=True)
class Drawn:
    """One concrete case: everything check_backprop needs, and the points per quantity."""

    name: str
    hidden: bool
    sizes: list
    activations: list
    loss: str
    dtype: str
    batch: int
    seed: int
    convention: str
    overrides: dict
    points: dict  # quantity ("dW2", "loss", ...) -> points

    @property
    def max_score(self) -> float:
        return float(sum(self.points.values()))

    def kwargs(self) -> dict:
        """check_backprop's (and case_inputs') keyword arguments."""
        return dict(
            convention=self.convention,
            dtype=self.dtype,
            batch=self.batch,
            seed=self.seed,
            **self.overrides,
        )

    def public(self) -> dict:
        """What a report may show: a hidden case's network, batch and seed withheld."""
        out = dict(name=self.name, hidden=self.hidden, points=self.max_score)
        if not self.hidden:
            out.update(
                layout="-".join(map(str, self.sizes)),
                activations=self.activations,
                loss=self.loss,
                dtype=self.dtype,
                batch=self.batch,
                seed=self.seed,
            )
        return out


@dataclass
class Rubric:
    """A class's grading: the function's name, the convention, the cases, the secret and
    the limits each submission runs under."""

    function: str
    cases: list  # of dicts, as in the file (ranges not yet drawn)
    convention: str = "keras"
    overrides: dict = field(default_factory=dict)
    secret: str = ""
    title: str = "crosscheck grade"
    timeout: float = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY
    forbid: tuple = DEFAULT_FORBID
    source: str = "rubric"  # the file it came from, for messages

    def draw(self) -> list[Drawn]:
        """The concrete cases, each checked by building its inputs once."""
        return [self._draw(i, case) for i, case in enumerate(self.cases)]

    def fingerprint(self) -> str:
        """A hash of everything that decides a score (the drawn cases and their points,
        the function, the limits and the forbid list): a resumed run must match it."""
        data = [asdict(d) for d in self.draw()]
        limits = [self.timeout, self.memory, sorted(self.forbid)]
        text = json.dumps([self.function, data, limits], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def _draw(self, i: int, case: dict) -> Drawn:
        where = f"{self.source}: case {i + 1} ({case.get('name', '?')!r})"
        hidden = case.get("hidden", False)
        rng = _generator(self.secret, case["name"]) if hidden else None
        seed = int(rng.integers(0, 2**31)) if hidden else case.get("seed", 0)
        sizes = [_pick(w, rng, f"{where}.layout") for w in case["layout"]]
        batch = _pick(case.get("batch", 8), rng, f"{where}.batch")
        dtype = _choose(case.get("dtype", "float64"), rng, f"{where}.dtype")
        acts = case["activations"]
        overrides = dict(self.overrides)
        overrides.update({k: case[k] for k in AXES if k in case})
        conv = conventions.get(self.convention, **overrides)
        drawn = Drawn(
            name=case["name"],
            hidden=hidden,
            sizes=sizes,
            activations=[acts] * (len(sizes) - 1) if isinstance(acts, str) else acts,
            loss=case["loss"],
            dtype=dtype,
            batch=batch,
            seed=seed,
            convention=self.convention,
            overrides=overrides,
            points=_points(case.get("points", 10), len(sizes) - 1, conv, where),
        )
        try:
            case_inputs(drawn.sizes, drawn.activations, drawn.loss, **drawn.kwargs())
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        return drawn


# ---------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------


def read(path) -> Rubric:
    """The rubric in the TOML file ``path``; ValueError naming the key when it is wrong."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    path = check_path(path, "rubric")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ValueError(f"rubric: cannot read {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"rubric: {str(path)!r} is not valid TOML: {exc}") from None
    return from_data(data, source=str(path))


def from_data(data: dict, source: str = "rubric") -> Rubric:
    """The rubric in ``data`` (a parsed TOML file), checked key by key."""
    _known(data, KEYS, source)
    function = data.get("function")
    if not (isinstance(function, str) and function.isidentifier()):
        raise ValueError(
            f"{source}: function: expected the name of the function every submission "
            f"defines, e.g. 'backprop', got {function!r}"
        )
    cases = data.get("case")
    if not isinstance(cases, list) or not cases:
        raise ValueError(
            f"{source}: expected at least one [[case]] table, got {cases!r}"
        )
    secret = data.get("secret", "")
    if not isinstance(secret, str):
        raise ValueError(f"{source}: secret: expected a string, got {secret!r}")
    checked = [_case(i, c, source) for i, c in enumerate(cases)]
    names = [c["name"] for c in checked]
    if len(set(names)) != len(names):
        raise ValueError(f"{source}: case names must differ, got {names}")
    if any(c.get("hidden") for c in checked) and not secret:
        raise ValueError(
            f"{source}: secret: hidden cases are drawn from a secret; add "
            f'secret = "..." (any text the students do not see)'
        )
    rubric = Rubric(
        function=function,
        cases=checked,
        convention=data.get("convention", "keras"),
        overrides={k: data[k] for k in AXES if k in data},
        secret=secret,
        title=str(data.get("title", f"crosscheck grade: {function}")),
        timeout=_positive(data.get("timeout", DEFAULT_TIMEOUT), f"{source}: timeout"),
        memory=parse_bytes(data.get("memory", DEFAULT_MEMORY), f"{source}: memory"),
        forbid=_modules(data.get("forbid", DEFAULT_FORBID), f"{source}: forbid"),
        source=source,
    )
    try:
        conventions.get(rubric.convention, **rubric.overrides)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{source}: {exc}") from None
    rubric.draw()  # every case checked now, before any student's code runs
    return rubric


def from_arguments(
    function,
    sizes,
    activations,
    loss,
    *,
    convention="keras",
    hidden: int = 2,
    secret: str = "",
    points: float = 10.0,
    timeout: float = DEFAULT_TIMEOUT,
    memory: int = DEFAULT_MEMORY,
    dtype: str = "float64",
    batch: int = 8,
    **overrides,
) -> Rubric:
    """The rubric of the command line: a practice case (seed 0, what ``crosscheck mine``
    shows) and ``hidden`` hidden cases of the same network, ``points`` each."""
    sizes = refnet.validation.check_sizes(sizes, "layout")
    if isinstance(hidden, bool) or not (isinstance(hidden, int) and hidden >= 0):
        raise ValueError(f"hidden: expected an int >= 0, got {hidden!r}")
    # the arguments checked as check_backprop names them (the CLI maps them to flags)
    case_inputs(
        sizes,
        activations,
        loss,
        convention=convention,
        dtype=dtype,
        batch=batch,
        **overrides,
    )
    base = dict(
        layout=sizes,
        activations=activations,
        loss=loss,
        points=points,
        dtype=dtype,
        batch=batch,
    )
    cases = [dict(base, name="practice")]
    cases += [dict(base, name=f"hidden {i + 1}", hidden=True) for i in range(hidden)]
    data = dict(
        function=function,
        convention=convention,
        secret=secret,
        timeout=timeout,
        memory=memory,
        case=cases,
        **overrides,
    )
    try:
        return from_data(data, source="arguments")
    except ValueError as exc:  # named by the argument alone: "function: ..."
        raise ValueError(str(exc).removeprefix("arguments: ")) from None


def _case(i: int, case, source: str) -> dict:
    where = f"{source}: case {i + 1}"
    if not isinstance(case, dict):
        raise ValueError(f"{where}: expected a table, got {case!r}")
    _known(case, CASE_KEYS, where)
    for key in ("name", "layout", "activations", "loss"):
        if key not in case:
            raise ValueError(f"{where}: {key}: missing")
    if not isinstance(case["name"], str) or not case["name"].strip():
        raise ValueError(f"{where}: name: expected a non-empty string")
    where = f"{where} ({case['name']!r})"
    case = dict(case)
    hidden = case.setdefault("hidden", False)
    if not isinstance(hidden, bool):
        raise ValueError(f"{where}: hidden: expected true or false, got {hidden!r}")
    layout = case["layout"]
    if isinstance(layout, str):
        layout = [int(w) if w.strip().isdigit() else w for w in layout.split("-")]
    if not isinstance(layout, list) or len(layout) < 2:
        raise ValueError(
            f"{where}: layout: expected e.g. '4-6-3' or [4, [5, 9], 3], got {layout!r}"
        )
    case["layout"] = layout
    drawn = [k for k in ("layout", "batch", "dtype") if _is_choice(case.get(k), k)]
    if drawn and not hidden:
        raise ValueError(
            f"{where}: {drawn[0]}: ranges and lists are drawn for hidden cases only; "
            f"give one value, or set hidden = true"
        )
    if hidden and "seed" in case:
        raise ValueError(f"{where}: seed: a hidden case draws its own; remove it")
    return case


def _is_choice(value, key: str) -> bool:
    if key == "layout":
        return isinstance(value, list) and any(isinstance(w, list) for w in value)
    return isinstance(value, list)


def _known(data: dict, keys, where: str) -> None:
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise ValueError(
            f"{where}: unknown key {unknown[0]!r}; expected one of {sorted(keys)}"
        )


def _generator(secret: str, name: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{secret}\0{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _pick(value, rng, where: str) -> int:
    """An int, or one drawn from an inclusive range [lo, hi]."""
    if isinstance(value, list):
        if not (
            len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and 1 <= value[0] <= value[1]
        ):
            raise ValueError(
                f"{where}: expected a range [lo, hi], 1 <= lo <= hi, got {value!r}"
            )
        return int(rng.integers(value[0], value[1] + 1))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: expected a positive int or [lo, hi], got {value!r}")
    return value


def _choose(value, rng, where: str) -> str:
    if isinstance(value, list):
        if not value:
            raise ValueError(f"{where}: expected a non-empty list, got []")
        value = value[int(rng.integers(0, len(value)))]
    if value not in ("float64", "float32"):
        raise ValueError(f"{where}: expected 'float64' or 'float32', got {value!r}")
    return value


def _points(points, n_layers: int, conv, where: str) -> dict:
    """{quantity: points}: a number split evenly over dW_l and db_l; a table's dW, db and
    delta split evenly over the layers."""
    where = f"{where}.points"
    if _number(points):
        points = {"dW": points, "db": points} if conv.use_bias else {"dW": points}
        share = 0.5 if conv.use_bias else 1.0
        points = {k: v * share for k, v in points.items()}
    if not isinstance(points, dict) or not points:
        raise ValueError(
            f"{where}: expected a number >= 0 or a table such as {{ dW = 2, db = 1, loss = 1 }}, got {points!r}"
        )
    out: dict[str, float] = {}
    for key, value in points.items():
        if not _number(value):
            raise ValueError(f"{where}.{key}: expected a number >= 0, got {value!r}")
        per_layer = _PER_LAYER.match(key)
        if key == "db" or (per_layer and per_layer[1] == "db"):
            if not conv.use_bias:
                raise ValueError(f"{where}.{key}: this convention has no biases")
        if key in GROUPS:
            for l in range(1, n_layers + 1):
                out[f"{key}{l}"] = out.get(f"{key}{l}", 0.0) + value / n_layers
        elif key in SINGLE:
            out[key] = out.get(key, 0.0) + float(value)
        elif per_layer and int(per_layer[2]) <= n_layers:
            out[key] = out.get(key, 0.0) + float(value)
        else:
            raise ValueError(
                f"{where}: unknown quantity {key!r}; expected dW, db, delta (split over "
                f"the layers), loss, output, dX, or one layer's dW1..dW{n_layers}, "
                f"db1.., delta1.."
            )
    if sum(out.values()) <= 0:
        raise ValueError(f"{where}: the case is worth no points")
    return out


def _number(value) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _positive(value, where: str) -> float:
    if not _number(value) or value <= 0:
        raise ValueError(
            f"{where}: expected a positive number of seconds, got {value!r}"
        )
    return float(value)


def _modules(value, where: str) -> tuple:
    """Top-level module names, e.g. ["refnet", "crosscheck", "torch"]."""
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, str) and v.isidentifier() for v in value
    ):
        return tuple(value)
    raise ValueError(
        f"{where}: expected a list of module names such as ['refnet', 'torch'], got "
        f"{value!r}"
    )


def parse_bytes(value, where: str = "memory") -> int:
    """Bytes from an int or a text such as "512 MiB" or "2 GB"."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", str(value))
    unit = match and _UNITS.get(match[2].lower())
    if not unit or float(match[1]) <= 0:
        raise ValueError(
            f"{where}: expected bytes, e.g. 2147483648 or '2 GiB' or '512 MB', got "
            f"{value!r}"
        )
    return int(float(match[1]) * unit)
