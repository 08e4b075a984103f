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
    written from commit 302c84e, before the theory package was laid out anew)."""
    import json

    recorded = json.loads((Path(__file__).parent / "data" / "theory_api.json").read_text())
    now = _theory_api()
    assert sorted(now) == sorted(recorded["theory"])
    for name, entry in recorded["theory"].items():
        assert now[name] == entry, name
    # the check can fail: a changed default is seen
    changed = dict(recorded["theory"]["token_loss"], signature="(model, regime)")
    assert now["token_loss"] != changed
