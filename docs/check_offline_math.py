"""Check that the built documentation renders its math offline.

Run after a docs build, from the repository root::

    python docs/check_offline_math.py                 # both parts
    python docs/check_offline_math.py --static-only   # part 1 only (what CI runs)

1. Static (always): no built page loads MathJax from a remote URL, every theory page
   loads it, and every MathJax script a page loads exists in the build under
   ``_static`` (with the web fonts its CHTML output needs).
2. Browser (when Chromium is found, e.g. Debian's ``/usr/bin/chromium``; skipped
   otherwise, or with ``--static-only``): every theory page is opened from ``file://`` in
   headless Chromium with the network cut (``unshare -n`` where it works, and a host
   resolver that resolves nothing in any case); after MathJax ran, the page's text must
   hold no raw TeX delimiter (``\\(``, ``\\[``, ``$$``), no MathJax error, and one
   ``mjx-container`` per formula of the built page.

Exits 1 on any failure, printing what failed.
"""

from __future__ import annotations

import argparse
import html.parser
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
DELIMITERS = ("\\(", "\\[", "$$")
# MathJax leaves TeX inside these tags alone (its skipHtmlTags), so they are not "text"
SKIP_TAGS = {"script", "noscript", "style", "textarea", "pre", "code", "annotation",
             "annotation-xml"}


class _Page(html.parser.HTMLParser):
    """A page's MathJax script/link URLs, its visible text, and its MathJax elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.mathjax_urls: list[str] = []
        self.text: list[str] = []
        self.containers = 0  # <mjx-container>: one per formula MathJax typeset
        self.errors = 0  # <mjx-merror>: a formula MathJax could not parse
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self._skip += 1
        url = dict(attrs).get("src" if tag == "script" else "href")
        if tag in ("script", "link") and url and "mathjax" in url.lower():
            self.mathjax_urls.append(url)
        self.containers += tag == "mjx-container"
        self.errors += tag == "mjx-merror"

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(source: str) -> _Page:
    page = _Page()
    page.feed(source)
    page.close()
    return page


def count_formulas(text: str) -> int:
    """Formulas in a page's text before MathJax: ``\\(``/``\\[`` openings, ``$$`` pairs."""
    return text.count("\\(") + text.count("\\[") + text.count("$$") // 2


def theory_pages(build: Path) -> list[Path]:
    return sorted((build / "theory").glob("*.html"))


def check_static(build: Path) -> list[str]:
    """Part 1: MathJax is referenced only from the build, and is there."""
    failures = []
    pages = sorted(build.rglob("*.html"))
    theory = set(theory_pages(build))
    if not theory:
        failures.append(f"no theory pages under {build / 'theory'}: build the docs first")
    static = (build / "_static").resolve()
    scripts = set()
    for path in pages:
        urls = parse(path.read_text(encoding="utf-8")).mathjax_urls
        if path in theory and not urls:
            failures.append(f"{path}: loads no MathJax")
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:
                failures.append(f"{path}: remote MathJax {url}")
                continue
            target = (path.parent / parts.path).resolve()
            if not target.is_file() or not target.is_relative_to(static):
                failures.append(f"{path}: MathJax {url} is not a file under {static}")
            else:
                scripts.add(target)
    for script in sorted(scripts):
        fonts = script.parent / "output" / "chtml" / "fonts" / "woff-v2"
        if "chtml" in script.name and not any(fonts.glob("*.woff")):
            failures.append(f"{script}: CHTML output without its fonts in {fonts}")
    print(f"static: {len(pages)} pages, {len(theory)} theory pages, MathJax scripts "
          f"{sorted(str(s.relative_to(build)) for s in scripts)}")
    return failures


def network_cut() -> list[str]:
    """The command prefix that runs Chromium without a network, where the machine allows."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def chromium(binary: str, page: Path, prefix: list[str], *extra: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            *prefix, binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000",
            *extra, page.resolve().as_uri(),
        ]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if run.returncode:
        raise RuntimeError(f"chromium exited {run.returncode}: {run.stderr[-2000:]}")
    return run.stdout


def check_browser(build: Path, binary: str, screenshots: Path | None) -> list[str]:
    """Part 2: every theory page, rendered offline, shows typeset math and no raw TeX."""
    failures = []
    prefix = network_cut()
    print(f"browser: {binary}, network cut by "
          f"{'unshare -n and ' if prefix else ''}a host resolver that resolves nothing")
    for path in theory_pages(build):
        built = parse(path.read_text(encoding="utf-8"))
        formulas = count_formulas("".join(built.text))
        shown = parse(chromium(binary, path, prefix, "--dump-dom"))
        text = "".join(shown.text)
        raw = {d: text.count(d) for d in DELIMITERS if d in text}
        print(f"  {path.name}: {formulas} formulas, {shown.containers} mjx-container, "
              f"{shown.errors} mjx-merror, raw TeX delimiters {raw or 'none'}")
        if raw:
            i = min(text.index(d) for d in raw)
            failures.append(f"{path}: raw TeX left {raw}, e.g. {text[i:i + 60]!r}")
        if shown.containers != formulas:
            failures.append(f"{path}: {formulas} formulas but {shown.containers} typeset")
        if shown.errors:
            failures.append(f"{path}: {shown.errors} formulas MathJax could not parse")
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            png = (screenshots / path.with_suffix(".png").name).resolve()
            chromium(binary, path, prefix, f"--screenshot={png}", "--window-size=1280,2400")
            print(f"    screenshot {png}")
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", type=Path, default=ROOT / "_build" / "html",
                    help="the HTML build (default: docs/_build/html)")
    ap.add_argument("--static-only", action="store_true", help="skip the browser part")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium",
                    help="the Chromium binary (default: chromium on PATH)")
    ap.add_argument("--screenshots", type=Path, metavar="DIR",
                    help="also write a PNG of each theory page into DIR")
    args = ap.parse_args(argv)
    failures = check_static(args.build)
    if args.static_only:
        print("browser: skipped (--static-only)")
    elif not Path(args.chromium).is_file():
        print(f"browser: skipped (no Chromium at {args.chromium})")
    else:
        failures += check_browser(args.build, args.chromium, args.screenshots)
    for failure in failures:
        print("FAIL", failure)
    print("offline math: " + (f"{len(failures)} failures" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
