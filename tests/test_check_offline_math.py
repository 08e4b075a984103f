"""docs/check_offline_math.py on small hand-made builds: its static part passes a build
that bundles MathJax and fails each way a build can depend on the network; its browser
part is skipped when there is no Chromium."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "check_offline_math.py"
spec = importlib.util.spec_from_file_location("check_offline_math", SCRIPT)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

PAGE = ('<html><head><script defer src="{src}"></script></head><body>'
        '<p>a <span class="math">\\(x^2\\)</span></p><div class="math">\\[y\\]</div>'
        '<pre>\\(code\\)</pre></body></html>')


def build(tmp_path, src="../_static/mathjax/tex-chtml.js", script=True, fonts=True):
    (tmp_path / "theory").mkdir(parents=True)
    (tmp_path / "theory" / "a.html").write_text(PAGE.format(src=src), encoding="utf-8")
    mathjax = tmp_path / "_static" / "mathjax"
    mathjax.mkdir(parents=True)
    if script:
        (mathjax / "tex-chtml.js").write_text("/* MathJax */", encoding="utf-8")
    if fonts:
        (mathjax / "output" / "chtml" / "fonts" / "woff-v2").mkdir(parents=True)
        (mathjax / "output" / "chtml" / "fonts" / "woff-v2" / "Main.woff").write_bytes(b"")
    return tmp_path


def test_bundled_mathjax_passes(tmp_path):
    assert check.check_static(build(tmp_path)) == []


@pytest.mark.parametrize("kwargs, failure", [
    ({"src": "https://cdn.jsdelivr.net/npm/mathjax@4/tex-mml-chtml.js"}, "remote MathJax"),
    ({"src": "//cdn.example.org/mathjax/tex-chtml.js"}, "remote MathJax"),
    ({"script": False}, "is not a file under"),
    ({"src": "../../outside/mathjax.js"}, "is not a file under"),
    ({"fonts": False}, "without its fonts"),
    ({"src": "../_static/other.js"}, "loads no MathJax"),
])
def test_each_network_dependency_fails(tmp_path, kwargs, failure):
    failures = check.check_static(build(tmp_path, **kwargs))
    assert len(failures) == 1 and failure in failures[0]


def test_no_build_fails(tmp_path):
    assert "no theory pages" in check.check_static(tmp_path)[0]


def test_text_and_formulas():
    page = check.parse(PAGE.format(src="x"))
    text = "".join(page.text)
    assert "code" not in text  # MathJax skips <pre>, and so does the check
    assert check.count_formulas(text) == 2
    assert check.count_formulas("$$a$$ and $$b$$") == 2
    shown = check.parse("<p><mjx-container><mjx-merror></mjx-merror></mjx-container></p>")
    assert (shown.containers, shown.errors) == (1, 1)


def test_browser_part_skipped_without_chromium(tmp_path, capsys):
    assert check.main([str(build(tmp_path)), "--chromium", str(tmp_path / "none")]) == 0
    assert "browser: skipped (no Chromium" in capsys.readouterr().out
    assert check.main([str(build(tmp_path / "b", src="http://x/mathjax.js")),
                       "--static-only"]) == 1
