"""Committed results carry no absolute path of the machine that produced them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"

#: an absolute path of a machine: a Unix home, work or temporary folder (not inside a
#: URL or a relative path), or a Windows drive (one or two backslashes, as JSON escapes it)
_ABSOLUTE = re.compile(r"(?<![\w.:/~-])/(?:work|home|tmp|root|Users|private|var/folders)/"
                       r"|\b[A-Za-z]:\\{1,2}[\w.]")


def absolute_paths(text: str) -> list[str]:
    """The places in ``text`` that look like an absolute path of a machine."""
    return [text[max(m.start() - 20, 0):m.end() + 40] for m in _ABSOLUTE.finditer(text)]


def test_the_checker_flags_absolute_paths():
    for bad in ('"results_path": "/work/harness_work/tiny-seed0/results.json"',
                "/home/alice/runs/x.npz", "written to /tmp/bench/out.json",
                "/root/figs", "/Users/bob/a.png", '"C:\\\\Users\\\\bob\\\\a.json"',
                r"C:\runs\a.json", "/private/var/x"):
        assert absolute_paths(bad), bad
    for fine in ('"results_path": "tiny-seed0/replace_40000/results.json"',
                 "https://example.org/home/page", "docs/tmp/x", "harness_work",
                 "relative/work/dir", "ratio 1:2", "~/home/x", "a/b/c.json"):
        assert not absolute_paths(fine), fine


@pytest.mark.skipif(not RESULTS.is_dir(), reason="no benchmarks/results here")
def test_no_committed_result_names_a_path_of_its_machine():
    files = sorted(p for p in RESULTS.rglob("*") if p.is_file())
    assert any(p.suffix == ".json" for p in files)
    found = {}
    for p in files:
        raw = p.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # images: their metadata, byte for byte
            text = raw.decode("latin-1")
        if hits := absolute_paths(text):
            found[str(p.relative_to(RESULTS))] = hits[:3]
    assert not found, found
