"""The engine's structure, as the design asks: regimes are read through their plans,
modules stay small, library code imports no command-line module."""

from __future__ import annotations

import ast
from pathlib import Path

import modelcollapse
from modelcollapse import regimes

ROOT = Path(modelcollapse.__file__).parent
REGIME_CLASSES = {name for name in dir(regimes)
                  if isinstance(getattr(regimes, name), type)
                  and issubclass(getattr(regimes, name), regimes.Regime)
                  and getattr(regimes, name) is not regimes.Regime}


def _isinstance_on_regimes(tree) -> int:
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance" \
                and len(node.args) == 2:
            names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
            count += bool(names & REGIME_CLASSES)
    return count


def test_montecarlo_reads_plans_not_regime_classes():
    files = sorted((ROOT / "montecarlo").rglob("*.py"))
    total = sum(_isinstance_on_regimes(ast.parse(f.read_text())) for f in files)
    assert total <= 10, total
    # the check can fail: it counts the paper-style loops' tests
    assert _isinstance_on_regimes(ast.parse("isinstance(r, Replace) or isinstance(r, Mix)")) == 2


def test_no_montecarlo_module_over_600_lines():
    for f in sorted((ROOT / "montecarlo").rglob("*.py")):
        assert len(f.read_text().splitlines()) <= 600, f


def test_library_code_imports_no_cli_module():
    for f in sorted(ROOT.rglob("*.py")):
        if f.name in ("cli.py", "__main__.py"):
            continue
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[-1] != "cli", (f, node.module)
                assert "cli" not in [a.name for a in node.names], (f, node.module)


def test_library_code_leaves_matplotlib_backend_alone():
    for f in sorted(ROOT.rglob("*.py")):
        if f == ROOT / "cli.py":
            continue
        assert "matplotlib.use(" not in f.read_text(), f


def _theory_api() -> dict:
    """Every public name of ``modelcollapse.theory``: its kind and signature."""
    import inspect

    from modelcollapse import theory

    out = {}
    for name in sorted(theory.__all__):
        obj = getattr(theory, name)
        if inspect.isclass(obj):
            if issubclass(obj, tuple) and hasattr(obj, "_fields"):
                sig = "fields" + str(obj._fields)
            else:
                sig = str(inspect.signature(obj))
            out[name] = {"kind": "class", "signature": sig}
        else:
            out[name] = {"kind": "function", "signature": str(inspect.signature(obj))}
    return out


def test_theory_public_api_matches_the_release():
    """``theory.__all__`` and every signature as in release 0.1.0 (tests/data/theory_api.json,
    written from commit 302c84e, before the theory package was laid out anew), and the
    names added since, marked with the version that adds them."""
    import json

    recorded = json.loads((Path(__file__).parent / "data" / "theory_api.json").read_text())
    now = _theory_api()
    assert sorted(now) == sorted(recorded["theory"])
    for name, entry in recorded["theory"].items():
        added = entry.get("added")  # names after 0.1.0 say in which version they came
        assert added in (None, "0.2.0.dev"), name
        # "changed": a signature extended since 0.1.0 (new optional arguments only)
        assert entry.get("changed") in (None, "0.2.0.dev"), name
        assert now[name] == {k: v for k, v in entry.items()
                             if k not in ("added", "changed")}, name
    # the check can fail: a changed default is seen
    changed = dict(recorded["theory"]["token_loss"], signature="(model, regime)")
    assert now["token_loss"] != changed


# ---------------------------------------------------------------------- the import graph
def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(f): f for f in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path, modules) -> list[tuple[str, list[str]]]:
    """``(module imported, names taken from it)`` for every ``import``/``from`` statement
    of the module, at any depth (function-level imports count: they close circles too);
    ``from package import submodule`` counts as an import of the submodule."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("modelcollapse")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("modelcollapse"):
                continue
            plain = []
            for a in node.names:
                if f"{target}.{a.name}" in modules:
                    out.append((f"{target}.{a.name}", []))
                else:
                    plain.append(a.name)
            if plain:
                out.append((target, plain))
    return out


def _graph():
    modules = _modules()
    return modules, {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One circle of the directed graph, or None (depth-first search, three colours)."""
    state, stack = {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(edges.get(u, ())):
            if state.get(v) == 1:
                return [*stack[stack.index(v):], v]
            if v not in state:
                found = visit(v)
                if found:
                    return found
        state[u] = 2
        stack.pop()
        return None

    for u in sorted(edges):
        if u not in state:
            found = visit(u)
            if found:
                return found
    return None


def _edges(graph, modules) -> dict[str, set[str]]:
    """Module -> modules it imports, leaving out a module's import of its own package's
    ``__init__`` chain (Python runs those first anyway, and they re-export)."""
    edges = {}
    for name, imps in graph.items():
        targets = set()
        for target, _ in imps:
            if target in modules and not name.startswith(target + "."):
                targets.add(target)
        edges[name] = targets
    return edges


def test_the_import_graph_has_no_circle():
    modules, graph = _graph()
    assert _cycle(_edges(graph, modules)) is None, _cycle(_edges(graph, modules))
    # the check can fail: the circle of the first theory layout is found
    old = {"theory.categorical": {"theory.overlapping"},
           "theory.overlapping": {"theory.categorical"}, "theory.distributions": set()}
    assert _cycle(old) == ["theory.categorical", "theory.overlapping", "theory.categorical"]


def _package(module: str, packages) -> str:
    """The first-level subpackage a module belongs to; ``""`` for the root package's own
    modules (``models``, ``regimes``, ``sampling``, ...), the lowest layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in packages else ""


def _private_cross_package(graph, packages=None) -> list[tuple[str, str]]:
    """Imports of another package's private module or private name (the root package
    counts as one: what a subpackage needs of it must be public there)."""
    if packages is None:
        packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    bad = []
    for name, imps in graph.items():
        mine = _package(name, packages)
        for target, names in imps:
            theirs = _package(target, packages)
            if theirs == mine:
                continue
            tparts = target.split(".")
            if any(p.startswith("_") for p in tparts[1:]) or \
                    any(n.startswith("_") and not n.endswith("__") for n in names):
                bad.append((name, target + (":" + ",".join(names) if names else "")))
    return bad


def test_no_package_imports_another_packages_private_names():
    _, graph = _graph()
    assert _private_cross_package(graph) == []
    # the check can fail: the first theory layout imported the simulator's private module
    fake = {"modelcollapse.theory.policies": [("modelcollapse.montecarlo._stats", [])],
            "modelcollapse.proofs.x": [("modelcollapse.theory.categorical", ["_collapse_moments"])],
            "modelcollapse.theory.a": [("modelcollapse.theory._results", ["Estimate"])],
            "modelcollapse.theory.b": [("modelcollapse.models", ["_check_positive_int"])],
            "modelcollapse.regimes": [("modelcollapse.models", ["_spec_int"])]}
    assert [b[0] for b in _private_cross_package(fake)] == [
        "modelcollapse.theory.policies", "modelcollapse.proofs.x", "modelcollapse.theory.b"]


def test_no_theory_module_over_600_lines():
    for f in sorted((ROOT / "theory").rglob("*.py")):
        assert len(f.read_text().splitlines()) <= 600, f
