"""Sphinx configuration of the modelcollapse documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (after ``pip install
".[docs]"``). Every code cell of the guides is executed during the build (myst-nb), so
the numbers printed in the documentation are those of the current code. The math is
typeset by a copy of MathJax bundled into the build (``sphinx-mathjax-offline``), so it
renders offline; ``python docs/check_offline_math.py`` checks that.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import modelcollapse

project = "modelcollapse"
author = "the modelcollapse developers"
copyright = "2026, the modelcollapse developers"
release = modelcollapse.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax 3 bundled into _static/mathjax (sets mathjax_path): the math renders
    # offline, with no request to a CDN (docs/check_offline_math.py checks it)
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# API reference: one page per public name, from the docstrings
autosummary_generate = True
autosummary_ignore_module_all = False  # a module's public names are its __all__
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# executed examples: every code cell runs at build time; a failing cell fails the build
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 300
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]

html_theme = "pydata_sphinx_theme"
html_title = "modelcollapse"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 5,
}
html_static_path: list[str] = []


# ------------------------------------------------------------------ theorem registry page
def _theorem_page(app):
    """``generated/theorems.md``: every registered theorem (key, title, source, claim)
    from the registry, and the table of ``modelcollapse verify --markdown FILE`` when
    ``MODELCOLLAPSE_VERIFY_TABLE`` names such a file (CI writes it in its verify step)."""
    from modelcollapse import proofs

    out = [
        "# Verified theorems",
        "",
        "`modelcollapse verify` runs the checks of every theorem below: each claim is "
        "checked against an independent computation (exact enumeration, rational "
        "arithmetic, a second solver, or a seeded simulation with a negative control). "
        "`modelcollapse verify --list` prints the keys; `--only KEY` runs one.",
        "",
    ]
    for thm in proofs.theorems():
        out += [f"## `{thm.key}`", "", f"**{thm.title}**", "", f"*Source*: {thm.source}",
                "", "```{eval-rst}", thm.statement.strip(), "```", ""]
    table = os.environ.get("MODELCOLLAPSE_VERIFY_TABLE")
    if table and os.path.exists(table):
        with open(table, encoding="utf-8") as fh:
            out += ["## The checks, as run for this build", "", fh.read()]
    path = os.path.join(app.srcdir, "generated", "theorems.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = "\n".join(out) + "\n"
    if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


def setup(app):
    app.connect("builder-inited", _theorem_page)
