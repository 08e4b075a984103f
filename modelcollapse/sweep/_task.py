"""Tasks (a callable with fixed arguments) and the cells of a grid, validated up front."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import types
import typing
from collections.abc import Mapping, Sequence

import numpy as np

from ._canon import canonical, digest, qualname

__all__ = ["Cell", "Task", "make_cells"]

#: Grid parameters given as spec strings (:meth:`Model.from_spec`,
#: :meth:`Regime.from_spec`) are built into objects.
SPEC_PARAMS = ("model", "regime")


class Task:
    """A function with fixed arguments; the grid supplies the rest, cell by cell.

    ``Task(montecarlo.simulate, replicates=200, backend="numba")`` or
    ``Task(functools.partial(...))``. When the function takes a ``seed`` argument the
    sweep passes each cell its own :class:`numpy.random.SeedSequence`.
    """

    def __init__(self, fn, /, *args, **fixed):
        while isinstance(fn, functools.partial):
            args = (*fn.args, *args)
            fixed = {**fn.keywords, **fixed}
            fn = fn.func
        if isinstance(fn, Task):
            args, fixed, fn = (*fn.args, *args), {**fn.fixed, **fixed}, fn.fn
        if not callable(fn):
            raise ValueError(f"task must be a callable (or a Task), got {fn!r}")
        self.fn = fn
        self.args = tuple(args)
        self.fixed = dict(fixed)
        try:
            self.signature = inspect.signature(fn)
        except (TypeError, ValueError):
            self.signature = None
        params = self.signature.parameters if self.signature else {}
        self.var_keyword = self.signature is None or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        self.takes_seed = "seed" in params
        if "seed" in self.fixed and self.takes_seed:
            raise ValueError("do not fix the task's seed: the sweep derives every cell's seed "
                             "from sweep(seed=...) and the cell's parameters")
        try:
            self._identity = {"function": qualname(fn), "args": canonical(list(self.args)),
                              "fixed": canonical(self.fixed)}
        except TypeError as exc:
            raise ValueError(f"task arguments: {exc}") from None

    @classmethod
    def coerce(cls, task) -> Task:
        return task if isinstance(task, Task) else cls(task)

    @property
    def name(self) -> str:
        return qualname(self.fn)

    @property
    def identity(self) -> dict:
        """Canonical description: function qualified name, fixed arguments."""
        return self._identity

    def hints(self) -> dict:
        try:
            return typing.get_type_hints(self.fn)
        except Exception:
            return {}

    def __call__(self, params: Mapping, seed=None):
        kwargs = dict(self.fixed)
        kwargs.update(params)
        if self.takes_seed:
            kwargs["seed"] = seed
        return self.fn(*self.args, **kwargs)

    def __repr__(self) -> str:
        fixed = ", ".join(f"{k}={v!r}" for k, v in self.fixed.items())
        return f"Task({self.name}{', ' + fixed if fixed else ''})"


@dataclasses.dataclass(frozen=True, eq=False)
class Cell:
    """One point of the grid: its parameters (built objects), readable labels, key and
    seed entropy."""

    params: dict
    labels: dict
    key: str
    entropy: tuple[int, ...]

    def seed(self, sweep_seed: int) -> np.random.SeedSequence:
        return np.random.SeedSequence([int(sweep_seed), *self.entropy])


# ---------------------------------------------------------------------- validation
def _is_value_list(values) -> bool:
    if isinstance(values, (str, bytes, Mapping)):
        return False
    if isinstance(values, np.ndarray):
        return values.ndim == 1
    return isinstance(values, (list, tuple, range))


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_hint(name, value, hint):
    """Reject values of plainly the wrong type for ``int``/``float``/``str``/``bool``
    annotations (and their unions with None); other annotations are not checked."""
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) or \
        typing.get_origin(hint) is typing.Union else (hint,)
    simple = {int: (int, np.integer), float: (int, float, np.integer, np.floating),
              str: (str,), bool: (bool, np.bool_), type(None): (type(None),)}
    if not all(a in simple for a in allowed):
        return
    ok = any(isinstance(value, simple[a]) for a in allowed)
    if int in allowed and bool not in allowed and isinstance(value, (bool, np.bool_)):
        ok = False
    if not ok:
        want = " or ".join(a.__name__ for a in allowed)
        raise ValueError(f"parameter {name!r} must be {want}, got {_describe(value)} "
                         f"({type(value).__name__})")


def _build(name, value):
    """Spec strings for ``model``/``regime`` become objects; type-check toolkit objects."""
    from ..models import Model
    from ..regimes import Regime

    label = None
    if name == "model":
        if isinstance(value, str):
            label, value = value, Model.from_spec(value)
        if not isinstance(value, Model):
            raise ValueError(f"parameter 'model' must be a model (Categorical, Gaussian, ...) "
                             f"or a spec string such as 'zipf:100', got {_describe(value)}")
    elif name == "regime":
        if isinstance(value, str):
            label, value = value, Regime.from_spec(value)
        if not isinstance(value, Regime):
            raise ValueError(f"parameter 'regime' must be a Regime or a spec string such as "
                             f"'replace:100', got {_describe(value)}")
    return value, label


def _validate_simulate(task: Task, params: dict):
    from ..montecarlo import BACKENDS, check_problem

    kw = {**task.fixed, **params}
    backend = kw.get("backend", "numba")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    check_problem(kw.get("model"), kw.get("regime"), kw.get("tokens", ()),
                   kw.get("statistics"), kw.get("eps", 0.01))


#: Deep validators by function qualified name: run on every cell before any work.
VALIDATORS = {"modelcollapse.montecarlo._engine.simulate": _validate_simulate}


def _label(value, label):
    if label is not None:
        return label
    if isinstance(value, (int, float, str, bool, np.integer, np.floating, np.bool_)) or \
            value is None:
        return value
    return repr(value)


def make_cells(task: Task, grid) -> list[Cell]:
    """Every cell of ``grid`` for ``task``, validated; ``ValueError`` names the problem."""
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("the grid is empty: give at least one parameter")
        for name, values in grid.items():
            if not isinstance(name, str):
                raise ValueError(f"grid parameter names must be strings, got {name!r}")
            if not _is_value_list(values):
                raise ValueError(
                    f"grid[{name!r}] must be a list of values, got {_describe(values)} "
                    f"({type(values).__name__}); write [{_describe(values)}] for one value")
            if len(values) == 0:
                raise ValueError(f"grid[{name!r}] is an empty list: the grid has no cells")
        names = list(grid)
        raw = [dict(zip(names, combo, strict=True))
               for combo in itertools.product(*(list(grid[n]) for n in names))]
    elif isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)):
        if len(grid) == 0:
            raise ValueError("the list of cells is empty")
        raw = []
        for i, c in enumerate(grid):
            if not isinstance(c, Mapping):
                raise ValueError(f"cell {i} must be a mapping of parameter names to values, "
                                 f"got {_describe(c)}")
            raw.append(dict(c))
    else:
        raise ValueError("grid must be a mapping {name: [values]} (cartesian product) or a "
                         f"list of cells [{{name: value}}, ...], got {_describe(grid)}")

    params_sig = task.signature.parameters if task.signature else {}
    hints = task.hints()
    validator = VALIDATORS.get(task.name)
    cells, seen = [], {}
    for i, cell in enumerate(raw):
        where = f"cell {i} ({', '.join(f'{k}={_describe(v)}' for k, v in cell.items())})"
        built, labels = {}, {}
        for name, value in cell.items():
            if not isinstance(name, str):
                raise ValueError(f"{where}: parameter names must be strings, got {name!r}")
            if name in task.fixed:
                raise ValueError(f"parameter {name!r} is both fixed in the task and varied in "
                                 "the grid")
            label_only = name == "seed" and task.takes_seed
            if not label_only and name not in params_sig and not task.var_keyword:
                known = ", ".join(p for p in params_sig if p not in task.fixed)
                raise ValueError(f"unknown parameter {name!r} for {task.name}; it takes: "
                                 f"{known}")
            try:
                value, label = _build(name, value)
                if name in hints:
                    _check_hint(name, value, hints[name])
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            built[name] = value
            labels[name] = _label(value, label)
        call = {k: v for k, v in built.items() if not (k == "seed" and task.takes_seed)}
        if task.signature is not None:
            try:
                kw = {**task.fixed, **call}
                if task.takes_seed:
                    kw["seed"] = None
                task.signature.bind(*task.args, **kw)
            except TypeError as exc:
                raise ValueError(f"{where}: {exc}") from None
        if validator is not None:
            try:
                validator(task, call)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{where}: {exc}") from None
        try:
            pdigest = digest(built)
        except TypeError as exc:
            raise ValueError(f"{where}: {exc}") from None
        key = digest({"task": task.identity, "params": pdigest})[:24]
        if key in seen:
            raise ValueError(f"{where} duplicates cell {seen[key]}: every cell must differ")
        seen[key] = i
        entropy = tuple(int(pdigest[j:j + 8], 16) for j in range(0, 32, 8))
        cells.append(Cell(params=built, labels=labels, key=key, entropy=entropy))
    return cells
