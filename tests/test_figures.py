"""The publication figures: every figure renders in quick mode, writes its data with
parameters and seeds, re-plots from the data alone, and the CLI drives it."""

from __future__ import annotations

import argparse
import importlib
import json

import numpy as np
import pytest

from modelcollapse import plotting
from modelcollapse.plotting import FIGURES, cli, load_data, make_figure

RENDERED = [n for n in FIGURES if n != "fig8_harness"]
#: Rendered in the slow tier only (about 10 s in quick mode: Gaussian and GMM runs; about
#: 6 s for figure 9's 60 simulations and exact policy chains; 6 s for figure 14).
SLOW_FIGURES = {"fig4_windows", "fig5_gaussian", "fig6_accumulate", "fig9_regimes",
                "fig10_ngram", "fig14_mitigations"}
TIERED = [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_FIGURES else n
          for n in RENDERED]


class _Quick(dict):
    """Figures made in quick mode on first request, once per module."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def __missing__(self, name):
        self[name] = make_figure(name, self.out, quick=True)
        return self[name]


@pytest.fixture(scope="module")
def quick_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("figures"), None


@pytest.fixture(scope="module")
def quick(quick_dir):
    return _Quick(quick_dir[0])


def test_registry_has_compute_plot_and_caption():
    assert list(FIGURES) == [f"fig{i}_{s}" for i, s in enumerate(
        ("simplex", "collapse_time", "mix", "windows", "gaussian", "accumulate",
         "forgetting", "harness", "regimes", "ngram", "approximations", "vae",
         "perplexity", "mitigations"), start=1)]
    for name, (compute, plot) in FIGURES.items():
        assert callable(compute) and callable(plot)
        assert len(plotting.caption(name)) > 100, name
    assert plotting.resolve("3") == plotting.resolve("fig3") == "fig3_mix"
    assert plotting.resolve("1") == "fig1_simplex" and plotting.resolve("10") == "fig10_ngram"
    with pytest.raises(ValueError, match="unknown figure"):
        plotting.resolve("fig15")


@pytest.mark.parametrize("name", TIERED)
def test_quick_figure_files(quick_dir, quick, name):
    out, _ = quick_dir
    assert quick[name].skipped is None
    pdf, png = out / f"{name}.pdf", out / f"{name}.png"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    # sized for a paper column: 3.5 in or 7.2 in wide at 250 dpi (tight bbox trims a bit)
    import matplotlib.image as mpimg

    width = mpimg.imread(png).shape[1] / plotting.DPI
    assert 2.5 < width < 7.6, width


@pytest.mark.parametrize("name", TIERED)
def test_quick_figure_data(quick_dir, quick, name):
    out, _ = quick_dir
    quick[name]
    params = json.loads((out / f"{name}_data.json").read_text())
    assert params["figure"] == name and params["quick"] is True
    if "source" in params:  # drawn from a committed benchmark result: its seeds are there
        assert params["source"].endswith(".json") and params["comparisons"] > 0
    else:
        assert isinstance(params["seed"], int) and params["backend"] == "numba"
        assert any(k in params for k in ("replicates", "forget_replicates"))
    data = load_data(out, name)
    arrays = {k: v for k, v in data.items() if k != "params"}
    assert arrays
    for key, arr in arrays.items():
        assert arr.size, key
        if arr.dtype.kind == "f":
            # NaN only where a statistic is undefined (deviation from p^(1) at m <= 1)
            assert np.isfinite(arr).mean() > 0.9, key


def test_exact_and_simulation_agree_in_the_data(quick_dir, quick):
    out, _ = quick_dir
    for name in ("fig1_simplex", "fig2_collapse_time", "fig3_mix", "fig7_forgetting"):
        quick[name]
    d = load_data(out, "fig1_simplex")
    assert np.max(np.abs(d["cdf_exact"] - d["cdf_sim"])) < 0.12  # 400 runs
    assert np.all(d["bound_lower"] <= d["cdf_exact"] + 1e-12)
    assert np.all(d["cdf_exact"] <= d["bound_upper"] + 1e-12)
    d = load_data(out, "fig2_collapse_time")
    assert np.all(d["lower"] <= d["exact_mean"])
    assert np.all(np.abs(d["sim_mean"] - d["exact_mean"]) < 5 * d["sim_se"] + 1)
    d = load_data(out, "fig3_mix")
    assert np.all(np.abs(d["S_mean"] - d["S_exact"]) < 5 * d["S_se"] + 1e-12)
    d = load_data(out, "fig7_forgetting")
    assert np.all(np.abs(d["sim_median"] - d["exact_median"]) <= 0.25 * d["exact_median"] + 1)


@pytest.mark.slow
def test_fig9_exact_and_simulation_agree_in_the_data(quick_dir, quick):
    """Figure 9: every simulated point against its exact value (|z| < 5) in the exact
    panels; MostRecent against its effective-size scaling, which it approaches from
    below."""
    out, _ = quick_dir
    quick["fig9_regimes"]
    d = load_data(out, "fig9_regimes")
    P = d["params"]
    series = ["a_replace_"] + [f"b{i}_" for i in range(len(P["policies"]))] + [
        f"{panel}{i}_" for panel in "cd" for i in range(len(P["stationary_regimes"]))]
    checked = 0
    for pre in series:
        mean, se, exact = d[pre + "sim_mean"], d[pre + "sim_se"], d[pre + "sim_exact"]
        ok = np.isfinite(exact)  # beyond the policy chain's cap there is no exact value
        assert np.all(se[ok] > 0), pre
        z = (mean[ok] - exact[ok]) / se[ok]
        assert np.all(np.abs(z) < 5), (pre, z)
        checked += int(ok.sum())
    assert checked >= 50
    # the exact lines pass through the simulated n
    assert np.allclose(np.interp(d["a_n_sim"], d["a_n_exact"], d["a_replace_exact"]),
                       d["a_replace_sim_exact"])
    # T = 2 grows exponentially; T = 0.5 stays below 6 generations
    t2 = d["b2_exact_mean"]
    assert np.all(np.diff(np.log(t2)) > 0) and t2[-1] > 1e10
    assert np.all(d["b0_exact_mean"] < 6)
    # MostRecent collapses later than Replace, within the N_e scaling (from below)
    for K in P["windows"]:
        mean, se = d[f"a_mr{K}_sim_mean"], d[f"a_mr{K}_sim_se"]
        scale = d[f"a_mr{K}_sim_scaling"]
        assert np.all(mean > d["a_replace_sim_exact"])
        assert np.all(mean < scale + 3 * se) and mean[-1] > 0.6 * scale[-1]
        assert not any(P["most_recent_not_collapsed"][f"MostRecent K={K}"])


def test_replot_reads_data_only(quick_dir, quick, tmp_path, monkeypatch):
    out, _ = quick_dir
    for name in ("fig1_simplex", "fig3_mix", "fig7_forgetting"):  # made by the quick tests
        quick[name]
        for suffix in ("_data.npz", "_data.json"):
            (tmp_path / f"{name}{suffix}").write_bytes((out / f"{name}{suffix}").read_bytes())

    def boom(*args, **kwargs):
        raise AssertionError("replot must not compute")

    for name in FIGURES:  # make_figure takes compute from the figure's module
        monkeypatch.setattr(importlib.import_module(f"modelcollapse.plotting.{name}"),
                            "compute", boom)
    res = make_figure("fig3", tmp_path, replot=True)
    assert res.compute_s == 0 and (tmp_path / "fig3_mix.pdf").exists()
    args = argparse.Namespace(names=["1", "fig7"], quick=False, out=str(tmp_path),
                              replot=True, format="png", harness=None)
    assert cli.run(args) == 0
    assert (tmp_path / "fig1_simplex.png").exists()
    assert (tmp_path / "fig7_forgetting.png").exists()
    assert not (tmp_path / "fig7_forgetting.pdf").exists()


def test_replot_without_data_fails_cleanly(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="run it once without --replot"):
        make_figure("fig2", tmp_path, replot=True)
    args = argparse.Namespace(names=["fig2"], quick=False, out=str(tmp_path), replot=True,
                              format="pdf,png", harness=None)
    assert cli.run(args) == 1
    assert "error" in capsys.readouterr().out


def test_fig8_without_harness_is_skipped(quick, tmp_path, monkeypatch, capsys):
    assert "harness" in quick["fig8_harness"].skipped
    monkeypatch.delenv("MODELCOLLAPSE_HARNESS_DIR", raising=False)
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["figures", "8", "--quick", "--out", str(tmp_path)])
    assert args.func(args) == 0
    assert "skipped" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_fig8_reads_harness_results(tmp_path):
    """Figure 8 reads the results files in the harness's own format, groups the seeds
    of a setting (mean and band over seeds), and draws the categorical chain of the same
    regime beside them: its expected support at generation 1 is the exact
    sum_i 1 - (1 - q_i)^n (|z| < 5 with the variance bound of a sum of negatively
    correlated indicators)."""
    import numpy as np

    from modelcollapse.harness._loop import SCHEMA

    hd = tmp_path / "harness"
    counts = [50, 30, 12, 5, 2, 1]
    n = 40
    specs = {"replace": f"replace:{n}", "mix": f"mix:{n // 2}:{n // 2}"}
    for seed in (0, 1):
        for name, f in (("replace", 1.0), ("mix", 0.4)):
            run = hd / f"tiny-seed{seed}" / specs[name].replace(":", "_")
            run.mkdir(parents=True)
            gens = [{"generation": k, "l1_to_gen1": 0.1 * (k - 1) * f + 0.01 * seed,
                     "heldout_loss": 1.5 + 0.05 * k * f,
                     "theory": {"observed_distinct": 6 - k // 2}} for k in range(6)]
            (run / "results.json").write_text(json.dumps({  # as the harness writes it:
                "results_path": (run / "results.json").relative_to(hd).as_posix(),
                "schema": SCHEMA, "config": {"name": "tiny"},
                "regime": {"name": name, "spec": specs[name], "label": name},
                "init": "scratch", "seed": seed, "real_unigram": {"counts": counts},
                "generations": gens}))
    out = tmp_path / "out"
    res = make_figure("fig8", out, harness_dir=hd)
    assert res.skipped is None and (out / "fig8_harness.pdf").exists()
    data = load_data(out, "fig8_harness")
    assert data["params"]["settings"] == ["tiny: replace", "tiny: mix"]
    assert data["params"]["seeds"] == [[0, 1], [0, 1]]
    r = 0  # replace
    assert data[f"r{r}_drift"].shape == (2, 5)  # seeds x generations 1..5
    assert np.allclose(data[f"r{r}_drift"][1] - data[f"r{r}_drift"][0], 0.01)
    q = np.array(counts) / sum(counts)
    exact = (1 - (1 - q) ** n).sum()
    bound = np.sqrt(((1 - (1 - q) ** n) * (1 - q) ** n).sum() / 2000)
    assert abs(data[f"r{r}_theory_support_mean"][0] - exact) < 5 * bound
    assert abs(data[f"r{r}_theory_support_mean"][0] - (exact - 0.2)) > 5 * bound  # control
    # the categorical drift from generation 1 starts at 0 and grows under Replace
    th = data[f"r{r}_theory_l1_mean"]
    assert abs(th[0]) < 1e-12 and np.all(np.diff(th) > 0)
    # the data name the results files relative to the harness folder (no absolute path
    # of this machine), and they are the files read; the figure replots from the data
    files = data["params"]["results_files"]
    assert data["params"]["harness_dir"] == "harness" and len(files) == 4
    assert all(not f.startswith("/") and (hd / f).is_file() for f in files)
    assert sorted(files) == sorted(p.relative_to(hd).as_posix()
                                   for p in hd.rglob("results.json"))
    (out / "fig8_harness.pdf").unlink()
    again = make_figure("fig8", out, replot=True)
    assert again.skipped is None and (out / "fig8_harness.pdf").exists()
