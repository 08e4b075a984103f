import json
import math
import os
import subprocess
import sys
from fractions import Fraction

import pytest

from modelcollapse import __version__
from modelcollapse.cli import main
from modelcollapse.theory.categorical import rational as _exact


def test_collapse_time_json(capsys):
    assert main(["collapse-time", "--p", "0.5,0.3,0.2", "--n", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = _exact.expected_collapse_time(
        [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)], 5)
    assert out["expected_collapse_time"] == pytest.approx(float(expected), rel=1e-12)
    assert out["method"] == "coalescent" and out["exact"] is True
    assert set(out["quantiles"]) == {"0.05", "0.5", "0.95"}


def test_collapse_time_text_and_methods(capsys):
    assert main(["collapse-time", "--zipf", "100", "--n", "300", "--method", "marginal",
                 "--quantiles", ""]) == 0
    text = capsys.readouterr().out
    assert "method=marginal, exact" in text and "Kimura" in text
    assert main(["collapse-time", "--uniform", "10", "--n", "5000", "--max-exact-n", "100"]) == 0
    assert "method=diffusion, approximation" in capsys.readouterr().out


def test_collapse_time_every_regime_and_policy(capsys):
    """Exact under Replace with a sampling policy (against the exact rational chain), a
    named approximation under MostRecent, and for regimes that never collapse the reason
    and the limit of the homozygosity (against the theory's closed products)."""
    from modelcollapse import Categorical, MostRecent, Replace, theory

    assert main(["collapse-time", "--p", "0.6,0.4", "--n", "10", "--temperature", "0.5",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    exact = theory.policy_expected_collapse_time(Categorical([0.6, 0.4]),
                                                 Replace(10, temperature=0.5), exact=True)
    assert out["expected_collapse_time"] == pytest.approx(float(exact), rel=1e-12)
    assert out["method"] == "policy-chain" and out["regime"] == "replace:10:temperature=0.5"
    assert main(["collapse-time", "--p", "0.5,0.3,0.2", "--regime", "most-recent:100:4"]) == 0
    text = capsys.readouterr().out
    assert "approximation" in text and "N_e" in text
    ne = theory.most_recent_effective_size(100, 4)
    assert f"{ne:.6g}" in text and ne != 100
    for spec, why in (("accumulate:10", "stays in the pool"), ("mix:5:10", "never collapses"),
                      ("randomly-sampled:10", "not absorbing")):
        assert main(["collapse-time", "--p", "0.5,0.3,0.2", "--regime", spec, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["expected_collapse_time"] is None and why in out["note"]
        assert 0.38 < out["stationary_homozygosity"] < 1
        if spec == "accumulate:10":  # Euler's product: 1 - (1 - S_0) sin(x)/x, x = pi/sqrt n
            x = math.pi / math.sqrt(10)
            assert out["stationary_homozygosity"] == pytest.approx(
                1 - (1 - 0.38) * math.sin(x) / x, rel=1e-12)
    # forgetting is exact for plain Replace only: one line, not a traceback
    with pytest.raises(SystemExit) as exc:
        main(["forget", "--count", "3", "--regime", "most-recent:100:2"])
    assert exc.value.code == 2
    assert "supported: replace" in capsys.readouterr().err
    assert main(["forget", "--count", "3", "--regime", "replace:100", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mean"] == pytest.approx(
        theory.forgetting_time(3, 100).mean())
    assert MostRecent(100, 4).n == 100


def test_collapse_time_wordfreq(capsys):
    pytest.importorskip("wordfreq")
    assert main(["collapse-time", "--wordfreq", "en", "--top", "2000", "--n", "1000",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["vocabulary"] == 2000 and out["expected_collapse_time"] > 1000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["collapse-time", "--p", "0.5,0.6", "--n", "4"], "sum to 1"),
        (["collapse-time", "--zipf", "10", "--n", "0"], "n must be >= 1"),
        (["collapse-time", "--n", "4"], "exactly one of"),
        (["collapse-time", "--uniform", "3", "--zipf", "3", "--n", "4"], "exactly one of"),
        (["collapse-time", "--p", "a,b", "--n", "4"], "comma-separated"),
        (["forget", "--count", "5", "--n", "5"], "count must be < n"),
        (["verify", "--only", "no-such-theorem"], "no theorem key"),
        (["max-synthetic", "--uniform", "5", "--real", "0", "--eps", "0.1"],
         "real must be >= 1"),
        (["max-synthetic", "--uniform", "5", "--real", "10", "--eps", "-1"],
         "eps must be finite and > 0"),
        (["collapse-time", "--uniform", "3", "--regime", "replace:9:top_k=2:top_k=1"],
         "the field 'top_k' is given twice"),
        (["collapse-time", "--uniform", "3", "--regime", "replace:9:temperature=0.5",
          "--temperature", "2"], "--temperature 2.0 and temperature= in --regime"),
        (["simulate", "--uniform", "3", "--regime", "replace:9:top_p=0.5", "--top-p", "0.9"],
         "--top-p 0.9 and top_p= in --regime"),
        (["harness", "--regime", "replace:99:top_k=3", "--top-k", "2", "--out", "/proc/h"],
         "--top-k 2 and top_k= in --regime"),
    ],
)
def test_bad_arguments_exit_2_with_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_sampling_option_beside_another_field_of_the_spec_is_fine(capsys):
    """The control of the refusals above: --top-k with a spec that sets the temperature."""
    assert main(["collapse-time", "--uniform", "3", "--regime", "replace:9:temperature=0.5",
                 "--top-k", "2", "--quantiles", "", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["regime"] == "replace:9:temperature=0.5:top_k=2"


def test_max_synthetic(capsys):
    """Against a plain scan of the Thm 3 bound over n (closed form for s = 2:
    sqrt(pi n/2) * 2 / N <= eps)."""
    import math

    assert main(["max-synthetic", "--p", "0.3,0.7", "--real", "1000", "--eps", "0.1",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    scan = max(n for n in range(1, 5000) if math.sqrt(math.pi * n / 2) * 2 / 1000 <= 0.1)
    assert out["max_synthetic"] == scan
    assert out["bound_at_max"] <= 0.1 and out["support"] == 2
    assert main(["max-synthetic", "--p", "1,0", "--real", "10", "--eps", "0.1",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["max_synthetic"] is None  # unbounded
    assert main(["max-synthetic", "--uniform", "10", "--real", "1000000", "--eps", "0.1"]) == 0
    text = capsys.readouterr().out
    quadratic = math.floor(2 / math.pi * (1e6 * 0.1 / (2**10 - 2)) ** 2)  # G_n(10) = 2^10-2
    assert f"{quadratic} synthetic samples" in text and "eq. (11)" in text


def test_forget(capsys):
    assert main(["forget", "--count", "1", "--n", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mean"] == pytest.approx(2.0) and out["p_loss"] == 0.5


def test_verify_one_theorem_passes_and_writes_tables(tmp_path, capsys):
    """The command on one theorem (``.ci/run`` runs the whole registry as its own
    step)."""
    md, js = tmp_path / "v.md", tmp_path / "v.json"
    assert main(["verify", "--only", "seddik2024.prop1", "--markdown", str(md),
                 "--json", str(js)]) == 0
    text = capsys.readouterr().out
    assert " 0 failed" in text
    rows = json.loads(js.read_text())
    assert len(rows) >= 2 and all(r["passed"] for r in rows)
    assert {r["theorem"] for r in rows} == {"seddik2024.prop1"}
    assert md.read_text().startswith("| theorem | claim |")
    assert len(md.read_text().splitlines()) == len(rows) + 2


def test_verify_lists_every_registered_theorem():
    from modelcollapse import proofs

    keys = {t.key for t in proofs.theorems()}
    assert {"seddik2024.thm1", "seddik2024.prop1", "seddik2024.thm2",
            "suresh2025.rates", "duality.exact-solvers"} <= keys


def test_plot_option_writes_the_law(tmp_path, capsys, monkeypatch):
    png = tmp_path / "t.png"
    assert main(["collapse-time", "--p", "0.5,0.3,0.2", "--n", "50", "--plot", str(png)]) == 0
    assert f"plot       : {png}" in capsys.readouterr().out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "f.svg"
    assert main(["forget", "--count", "2", "--n", "40", "--plot", str(svg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["plot"] == str(svg)
    assert b"<svg" in svg.read_bytes()[:500]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    from modelcollapse import theory  # a bad path or format is refused before any work

    monkeypatch.setattr(theory, "collapse_time", lambda *a, **k: pytest.fail("computed"))
    for bad, msg in ((tmp_path / "t.gif", "must end in"),
                     (tmp_path / "no" / "t.png", "does not exist")):
        with pytest.raises(SystemExit):
            main(["collapse-time", "--p", "0.5,0.5", "--n", "9", "--plot", str(bad)])
        assert msg in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["collapse-time", "--p", "0.5,0.5", "--regime", "accumulate:5", "--plot",
              str(png)])
    assert "no law of T" in capsys.readouterr().err


def test_verify_list_shows_keys_and_runs_nothing(monkeypatch, capsys):
    from modelcollapse import proofs

    def boom(*a, **k):
        raise AssertionError("verify --list ran the checks")

    monkeypatch.setattr(proofs, "run", boom)
    assert main(["verify", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines] == [t.key for t in proofs.theorems()]
    assert main(["verify", "--list", "--only", "policies"]) == 0
    assert capsys.readouterr().out.split()[0] == "policies.exact-chain"
    with pytest.raises(SystemExit) as exc:
        main(["verify", "--list", "--only", "no-such-theorem"])
    assert exc.value.code == 2
    assert "no theorem key contains" in capsys.readouterr().err


def test_verify_reports_a_failing_check(monkeypatch, capsys):
    from modelcollapse.proofs import _registry

    def broken():
        return [_registry.zcheck("x", "wrong on purpose", "sim", 1.0, 0.0, 0.1)]

    fake = _registry.Theorem("fake.broken", "t", "s", "st", broken)
    monkeypatch.setattr(_registry, "theorems", lambda: [fake])
    assert main(["verify"]) == 1
    assert "1 failed" in capsys.readouterr().out


def test_version_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "modelcollapse", "--version"],
                         capture_output=True, text=True, check=True)
    assert __version__ in out.stdout


def test_simulate_writes_a_result_that_matches_theory(capsys, tmp_path):
    from modelcollapse import Categorical, Replace, montecarlo, theory

    out = tmp_path / "run.npz"
    assert main(["simulate", "--p", "0.5,0.3,0.2", "--n", "10", "--generations", "collapse",
                 "--replicates", "3000", "--seed", "3", "--tokens", "2", "--out", str(out),
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    res = montecarlo.load(out)
    assert res.seed == 3 and res.replicates == 3000 and res.tokens == (2,)
    assert summary["collapse_time"]["collapsed"] == 3000
    law = theory.collapse_time(Categorical([0.5, 0.3, 0.2]), Replace(10))
    z = (res.collapse_time.mean() - law.mean()) / (law.std() / 3000**0.5)
    assert abs(z) < 5
    assert summary["collapse_time"]["mean"] == pytest.approx(res.collapse_time.mean())


def test_simulate_text_and_continuous_models(capsys):
    assert main(["simulate", "--model", "gaussian", "--regime", "mix-fresh", "--real", "5",
                 "--n", "5", "--generations", "20", "--replicates", "50",
                 "--backend", "numpy"]) == 0
    text = capsys.readouterr().out
    assert "Mix(real=5, synthetic=5, fresh=True)" in text and "logdet_ratio" in text
    assert main(["simulate", "--model", "regression", "--dim", "2", "--regime",
                 "most-recent", "--window", "2", "--n", "10", "--generations", "3",
                 "--replicates", "20", "--statistics", "test_error"]) == 0
    assert "test_error" in capsys.readouterr().out
    assert main(["simulate", "--model", "mixture", "--n", "60", "--generations", "2",
                 "--replicates", "5", "--backend", "numpy", "--json"]) == 0
    final = json.loads(capsys.readouterr().out)["final"]
    assert final["weights[0]"]["mean"] >= final["weights[1]"]["mean"]  # sorted by weight
    assert {"means[1,1]", "cov_trace[0]"} <= set(final)


def test_simulate_ngram_models(capsys, tmp_path):
    from modelcollapse import NGram, montecarlo

    out = tmp_path / "ng.npz"
    assert main(["simulate", "--model", "ngram", "--random", "3", "--order", "2", "--n",
                 "40", "--length", "8", "--generations", "3", "--replicates", "20",
                 "--backend", "numpy", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"l1_first", "distinct", "unigram_l1"} <= set(summary["final"])
    res = montecarlo.load(out)
    assert res.model == NGram.random(3, 2, seed=0, length=8) and res.generations == 3
    text = tmp_path / "corpus.txt"
    text.write_text("abracadabra, abracadabra\n" * 20, encoding="utf-8")
    assert main(["simulate", "--model", "ngram", "--corpus", str(text), "--n", "50",
                 "--unseen", "backoff", "--generations", "2", "--replicates", "10",
                 "--backend", "numpy"]) == 0
    assert "char n-gram model of" in capsys.readouterr().out


@pytest.mark.parametrize("argv,match", [
    (["--uniform", "3", "--n", "5", "--order", "2"], "--order describes an n-gram model"),
    (["--model", "ngram", "--zipf", "3", "--n", "5"], "use --corpus or --random"),
    (["--model", "ngram", "--corpus", "/no/such/file", "--n", "5"], "no such file"),
    (["--model", "ngram", "--random", "3", "--tokenizer", "word", "--n", "5"],
     "leave out --corpus"),
    (["--model", "ngram", "--random", "3", "--order", "0", "--n", "5"], "order must be"),
    (["--model", "ngram", "--random", "3", "--smoothing", "-1", "--n", "5"], "smoothing"),
    (["--uniform", "3", "--n", "5", "--regime", "mix"], "needs --real"),
    (["--uniform", "3", "--n", "5", "--regime", "most-recent"], "needs --window"),
    (["--uniform", "3", "--n", "5", "--window", "2"], "--window applies"),
    (["--model", "gaussian", "--uniform", "3", "--n", "5"], "describe a categorical"),
    (["--uniform", "3", "--n", "5", "--generations", "ten"], "--generations must be"),
    (["--uniform", "3", "--n", "5", "--statistics", "nope"], "unknown statistic"),
])
def test_simulate_bad_arguments(capsys, argv, match):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", *argv])
    assert exc.value.code == 2
    assert match in capsys.readouterr().err


def test_simulate_interrupted_saves_partial_result_and_exits_130(capsys, tmp_path,
                                                                 monkeypatch):
    """Ctrl-C during `simulate`: the finished generations are saved, the command says so
    and exits 130 (128 + SIGINT)."""
    from modelcollapse import montecarlo
    from modelcollapse.montecarlo._numpy import core as _numpy_core

    calls = {"n": 0}
    original = _numpy_core._VectorKernel.advance

    def flaky(self, g0, g1, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, g0, g1, *args, **kwargs)

    monkeypatch.setattr(_numpy_core._VectorKernel, "advance", flaky)
    out = tmp_path / "part.npz"
    code = main(["simulate", "--uniform", "5", "--n", "10", "--generations", "1000",
                 "--replicates", "3", "--backend", "numpy", "--out", str(out)])
    assert code == 130
    err = capsys.readouterr().err
    assert "interrupted after" in err and str(out) in err
    res = montecarlo.load(out)
    assert res.interrupted and 0 < res.generations < 1000
    assert res["homozygosity"].shape == (3, res.generations + 1)


# ---------------------------------------------------------------------- files and interrupts
def test_verify_interrupted_exits_130_without_rows_or_files(monkeypatch, capsys, tmp_path):
    from modelcollapse.proofs import _registry

    def interrupted():
        raise KeyboardInterrupt

    def crashing():
        raise RuntimeError("a check that raises")

    thms = [_registry.Theorem("fake.interrupted", "t", "s", "st", interrupted)]
    monkeypatch.setattr(_registry, "theorems", lambda: thms)
    md, js = tmp_path / "v.md", tmp_path / "v.json"
    with pytest.raises(SystemExit) as exc:
        main(["verify", "--markdown", str(md), "--json", str(js)])
    assert exc.value.code == 130
    captured = capsys.readouterr()
    assert "interrupted" in captured.err and "FAIL" not in captured.out
    assert not md.exists() and not js.exists() and not list(tmp_path.iterdir())
    # a check that raises is a FAIL row carrying its exception, and the run goes on
    thms[:] = [_registry.Theorem("fake.crash", "t", "s", "st", crashing)]
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert "RuntimeError" in out and "FAIL" in out


@pytest.mark.parametrize("out,match", [
    ("/proc/nope/x.npz", "does not exist"),
    ("{tmp}", "is a folder"),
])
def test_simulate_checks_its_output_path_first(out, match, tmp_path, capsys, monkeypatch):
    from modelcollapse import montecarlo

    def never(*a, **k):
        raise AssertionError("simulate ran although the output path is bad")

    monkeypatch.setattr(montecarlo, "simulate", never)
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--uniform", "3", "--n", "5", "--out", out.format(tmp=tmp_path)])
    assert exc.value.code == 2 and match in capsys.readouterr().err
    assert not (tmp_path.parent / (tmp_path.name + ".npz")).exists()


@pytest.mark.parametrize("argv,match", [
    (["figures", "fig1", "--quick", "--out", "{file}"], "is a file, not a folder"),
    (["harness", "--out", "{file}"], "is a file, not a folder"),
    (["collapse-time", "--wordfreq", "xx", "--n", "5"], "no frequency list for lang='xx'"),
])
def test_bad_paths_and_languages_are_one_line_errors(argv, match, tmp_path, capsys):
    if argv[0] == "collapse-time":
        pytest.importorskip("wordfreq")
    f = tmp_path / "a-file"
    f.write_text("x")
    with pytest.raises(SystemExit) as exc:
        main([a.format(file=f) for a in argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and match in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------- output paths
# /proc exists, is a folder, and os.access says root may write there; no file can be
# created in it. The one path check must see that, for every verb, before any work.
needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc here")

SWEEP_TOML = ('[task]\nfunction = "montecarlo.simulate"\ngenerations = 3\nreplicates = 5\n'
              'backend = "numpy"\n\n[grid]\nmodel = ["uniform:4"]\nregime = ["replace:8"]\n')


def _forbid_work(monkeypatch):
    """Every verb's work fails the test if it starts."""
    from modelcollapse import cli, harness, montecarlo, plotting, proofs, sweep

    def never(*a, **k):
        raise AssertionError("work started although the output path is bad")

    monkeypatch.setattr(cli, "_collapse_estimate", never)
    monkeypatch.setattr(montecarlo, "simulate", never)
    monkeypatch.setattr(proofs, "run", never)
    monkeypatch.setattr(harness, "run_harness", never)
    monkeypatch.setattr(plotting, "make_figure", never)
    monkeypatch.setattr(sweep, "sweep", never)


BAD_OUTPUTS = [  # (argv, the option named in the error)
    (["collapse-time", "--uniform", "3", "--n", "10", "--plot", "/proc/law.png"], "--plot"),
    (["forget", "--count", "2", "--n", "10", "--plot", "/proc/law.png"], "--plot"),
    (["simulate", "--uniform", "3", "--n", "5", "--out", "/proc/x.npz"], "--out"),
    (["verify", "--markdown", "/proc/x.md"], "--markdown"),
    (["verify", "--json", "/proc/x.json"], "--json"),
    (["harness", "--out", "/proc/h"], "--out"),
    (["harness", "--out", "{tmp}/h", "--figure", "/proc/h.png"], "--figure"),
    (["figures", "fig1", "--quick", "--out", "/proc/figs"], "--out"),
    (["figures", "fig1", "--quick", "--out", "/proc/a/b"], "--out"),
    (["sweep", "{toml}", "--serial", "--store", "/proc/st"], "--store"),
    (["sweep", "{toml}", "--serial", "--out", "/proc/t.csv"], "--out"),
]


@needs_proc
@pytest.mark.parametrize("argv,option", BAD_OUTPUTS,
                         ids=[f"{a[0]}-{o}-{i}" for i, (a, o) in enumerate(BAD_OUTPUTS)])
def test_unwritable_output_folders_are_one_line_errors_before_any_work(
        argv, option, tmp_path, capsys, monkeypatch):
    toml = tmp_path / "s.toml"
    toml.write_text(SWEEP_TOML)
    before = sorted(tmp_path.iterdir())
    _forbid_work(monkeypatch)
    with pytest.raises(SystemExit) as exc:
        main([a.format(tmp=tmp_path, toml=toml) for a in argv])
    err = capsys.readouterr().err
    bad = next(a for a in argv if a.startswith("/proc"))
    assert exc.value.code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert f"{option} {bad!r}" in err and "not writable" in err
    assert sorted(tmp_path.iterdir()) == before  # nothing created, no probe left


@pytest.mark.parametrize("argv,match", [
    (["sweep", "{toml}", "--serial", "--store", "{file}"], "--store '{file}' is a file"),
    (["sweep", "{toml}", "--serial", "--store", "{file}/st"], "'{file}' is not a folder"),
    (["sweep", "{toml}", "--serial", "--out", "{tmp}"], "--out '{tmp}' is a folder"),
    (["simulate", "--uniform", "3", "--n", "5", "--out", "{file}/x"], "is not a folder"),
    (["verify", "--json", "{tmp}"], "--json '{tmp}' is a folder"),
])
def test_files_and_folders_in_the_wrong_place_are_one_line_errors(
        argv, match, tmp_path, capsys, monkeypatch):
    toml, f = tmp_path / "s.toml", tmp_path / "a-file"
    toml.write_text(SWEEP_TOML)
    f.write_text("x")
    _forbid_work(monkeypatch)
    with pytest.raises(SystemExit) as exc:
        main([a.format(tmp=tmp_path, toml=toml, file=f) for a in argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err
    assert match.format(tmp=tmp_path, file=f) in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "s.toml"]


def test_the_output_check_tries_a_write(tmp_path, monkeypatch):
    """``check_output_path`` accepts what can be written (negative controls: a writable
    folder, a folder still to be made, a new file) and refuses a folder where creating a
    file fails even though ``os.access`` says it may be written."""
    from modelcollapse.files import check_output_path

    assert check_output_path(tmp_path / "f.txt", "--x") == tmp_path / "f.txt"
    assert check_output_path(tmp_path / "a" / "b", "--x", folder=True) == tmp_path / "a" / "b"
    assert check_output_path(tmp_path / "a" / "f.png", "--x", parents=True)
    with pytest.raises(ValueError, match="does not exist"):  # without parents=True
        check_output_path(tmp_path / "a" / "f.png", "--x")
    assert sorted(tmp_path.iterdir()) == []  # nothing made, no probe left

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "access", lambda *a, **k: True)  # what root is told
    monkeypatch.setattr("tempfile.mkstemp", refuse)
    for path, kw in ((tmp_path / "f.txt", {}), (tmp_path / "a" / "b", {"folder": True})):
        with pytest.raises(ValueError, match=r"--x .* is not writable .*Permission denied"):
            check_output_path(path, "--x", **kw)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes in a read-only folder")
def test_a_read_only_folder_is_refused(tmp_path):
    from modelcollapse.files import check_output_path

    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    try:
        with pytest.raises(ValueError, match="is not writable"):
            check_output_path(ro / "f.txt", "--out")
        with pytest.raises(ValueError, match="is not writable"):
            check_output_path(ro / "sub", "--out", folder=True)
    finally:
        ro.chmod(0o700)
