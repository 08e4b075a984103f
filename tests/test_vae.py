"""The VAE chain (Shumailov et al.'s second system) on scikit-learn's digits: its
configuration, regimes and measurements (fast), and a tiny chain end to end (slow)."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("equinox")
pytest.importorskip("sklearn")

from modelcollapse import Accumulate, AccumulateSubsample, Mix, MostRecent, Replace
from modelcollapse.errors import UnsupportedRegimeError, WrongTypeError
from modelcollapse.harness import (
    VAE_CONFIGS,
    VAEConfig,
    _vae,
    run_vae_chain,
)


def test_config_rejects_bad_values_naming_them():
    base = VAE_CONFIGS["tiny"].to_dict()
    for field, value, err in (("images", 0, ValueError), ("images", 1798, ValueError),
                              ("latent", 2.5, WrongTypeError), ("epochs", True, WrongTypeError),
                              ("pairs", 600, ValueError), ("lr", 0.0, ValueError),
                              ("lr", "fast", WrongTypeError)):
        with pytest.raises(err, match=field):
            VAEConfig(**{**base, field: value})


def test_regimes_map_to_real_and_synthetic_blocks():
    cfg = VAE_CONFIGS["tiny"]
    assert _vae._plan("replace", cfg) == (0, cfg.images, False)
    assert _vae._plan(Replace(200), cfg) == (0, 200, False)
    assert _vae._plan(Mix(100, 200), cfg) == (100, 200, False)
    assert _vae._plan("mix:30:60", cfg) == (30, 60, False)
    assert _vae._plan(Accumulate(150), cfg) == (150, 150, True)
    for bad in (AccumulateSubsample(100), MostRecent(100, 2), Replace(100, temperature=0.5),
                Mix(10, 20, fresh=True)):
        with pytest.raises(UnsupportedRegimeError):
            _vae._plan(bad, cfg)
    with pytest.raises(WrongTypeError):
        _vae._plan(3, cfg)
    with pytest.raises(ValueError, match="unknown VAE configuration"):
        run_vae_chain("huge")


class _FirstPixel:
    """A stand-in classifier: class 1 if the first pixel is lit, else 0."""

    def predict(self, x):
        return (np.asarray(x)[:, 0] > 0.5).astype(int)


def test_measure_against_hand_values():
    x = np.zeros((4, 64), dtype=np.float32)
    x[0, 0] = x[1, 0] = 1.0  # two images with the first pixel lit, two blank
    out = _vae.measure(x, _FirstPixel(), pairs=4)
    # pixel 0 takes 1, 1, 0, 0: variance 1/4; the other 63 pixels 0
    assert out["pixel_variance"] == pytest.approx(0.25 / 64)
    # pairs: (lit, lit) 0, (blank, blank) 0, four (lit, blank) pairs at distance 1
    assert out["pairwise_distance"] == pytest.approx(4 / 6)
    assert out["class_proportions"][:2] == [0.5, 0.5]
    assert out["class_entropy"] == pytest.approx(math.log(2))
    assert out["class_homozygosity"] == pytest.approx(0.5)


def test_digits_ship_with_the_package_and_the_classifier_reads_them():
    X, y = _vae.load_digits_data()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0 and set(y) == set(range(10))


@pytest.mark.slow
def test_tiny_chain_loses_diversity_and_is_reproducible():
    res = run_vae_chain("tiny", "replace", 2, seed=0)
    again = run_vae_chain("tiny", "replace", 2, seed=0)
    def untimed(records):
        return [{k: v for k, v in x.items() if k != "train_seconds"} for x in records]

    assert untimed(res["records"]) == untimed(again["records"])  # seeded end to end
    assert res["classifier_accuracy"] > 0.9
    r = res["records"]
    assert [x["generation"] for x in r] == [0, 1, 2]
    assert r[0]["class_entropy"] > 1.5  # generation 0 draws many digits
    assert r[2]["pixel_variance"] < r[0]["pixel_variance"]
    assert r[2]["pairwise_distance"] < r[0]["pairwise_distance"]
    # the neutral chain's homozygosity, by its closed form 1 - (1 - S_0)(1 - 1/n)^m
    S0, n = r[0]["class_homozygosity"], res["synthetic_per_generation"]
    for x in r:
        assert x["theory_homozygosity"] == pytest.approx(
            1 - (1 - S0) * (1 - 1 / n) ** x["generation"], rel=1e-12)


def test_cli_refuses_a_bad_regime_before_writing(tmp_path, capsys):
    from modelcollapse.cli import main

    out = tmp_path / "runs"
    with pytest.raises(SystemExit) as exc:
        main(["vae", "--regime", "most-recent:100:2", "--out", str(out)])
    assert exc.value.code == 2 and "Replace(n), Mix" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_interrupted_chain_resumes_with_the_same_numbers(tmp_path):
    def untimed(records):
        return [{k: v for k, v in x.items() if k != "train_seconds"} for x in records]

    straight = run_vae_chain("tiny", "mix:100:200", 2, seed=3)
    run_vae_chain("tiny", "mix:100:200", 1, seed=3, out_dir=tmp_path)  # "interrupted"
    resumed = run_vae_chain("tiny", "mix:100:200", 2, seed=3, out_dir=tmp_path)
    assert untimed(resumed["records"]) == untimed(straight["records"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "vae.json", "vae_gen0.eqx", "vae_gen1.eqx", "vae_gen2.eqx"]
    assert 0 < straight["records"][1]["theory_homozygosity"] < 1  # the fixed-block chain
    with pytest.raises(ValueError, match="another configuration"):
        run_vae_chain("tiny", "mix:100:200", 2, seed=4, out_dir=tmp_path)


def test_fixed_block_homozygosity_against_its_chain():
    q0 = np.array([0.5, 0.3, 0.2] + [0.0] * 7)
    qr = np.array([0.1, 0.1, 0.8] + [0.0] * 7)
    # no real block: the toolkit's neutral chain, in closed form
    S0 = float(q0 @ q0)
    for m in (0, 1, 5):
        assert _vae.fixed_block_homozygosity(q0, qr, 0, 40, m) == pytest.approx(
            1 - (1 - S0) * (1 - 1 / 40) ** m, rel=1e-12)
    # with a fixed block: seeded simulation of the class chain itself (|z| < 5)
    rng = np.random.default_rng(7)
    real, synth, m, R = 30, 20, 4, 20_000
    a = real / (real + synth)
    q = np.tile(q0, (R, 1))
    for _ in range(m):
        x = np.array([rng.multinomial(synth, row) for row in q]) / synth
        q = a * qr + (1 - a) * x
    S = (q * q).sum(axis=1)
    exact = _vae.fixed_block_homozygosity(q0, qr, real, synth, m)
    z = (S.mean() - exact) / (S.std(ddof=1) / np.sqrt(R))
    assert abs(z) < 5
    # negative control: the neutral chain's value (no real block) is far off
    wrong = _vae.fixed_block_homozygosity(q0, qr, 0, synth, m)
    assert abs((S.mean() - wrong) / (S.std(ddof=1) / np.sqrt(R))) > 5


def test_accumulate_homozygosity_against_its_chain():
    """The pool chain's closed recursion against a seeded simulation of the class chain
    itself (|z| < 5), with a negative control (the fixed-block chain's value)."""
    q0 = np.array([0.5, 0.3, 0.2] + [0.0] * 7)
    qr = np.array([0.1, 0.1, 0.8] + [0.0] * 7)
    assert _vae.accumulate_homozygosity(q0, qr, 30, 20, 0) == pytest.approx(q0 @ q0)
    rng = np.random.default_rng(11)
    real, n, m, R = 30, 20, 4, 20_000
    T = np.tile(real * qr, (R, 1))
    q = np.tile(q0, (R, 1))
    for k in range(m):
        T = T + np.array([rng.multinomial(n, row) for row in q])
        q = T / (real + (k + 1) * n)
    S = (q * q).sum(axis=1)
    exact = _vae.accumulate_homozygosity(q0, qr, real, n, m)
    se = S.std(ddof=1) / np.sqrt(R)
    assert abs((S.mean() - exact) / se) < 5
    wrong = _vae.fixed_block_homozygosity(q0, qr, real, n, m)
    assert abs((S.mean() - wrong) / se) > 5


@pytest.mark.slow
def test_accumulate_chain_keeps_every_block_and_resumes(tmp_path):
    """Accumulate(n): generation m trains on n real digits + n images of each earlier
    generation; an interrupted run rebuilds the pool and gives the same numbers."""
    def untimed(records):
        return [{k: v for k, v in x.items() if k != "train_seconds"} for x in records]

    straight = run_vae_chain("tiny", "accumulate:150", 3, seed=2)
    run_vae_chain("tiny", "accumulate:150", 1, seed=2, out_dir=tmp_path)
    resumed = run_vae_chain("tiny", "accumulate:150", 3, seed=2, out_dir=tmp_path)
    assert untimed(resumed["records"]) == untimed(straight["records"])
    r = straight["records"]
    q0 = np.asarray(r[0]["class_proportions"])
    for x in r[1:]:
        assert 0 < x["theory_homozygosity"] < 1
    assert r[1]["theory_homozygosity"] != pytest.approx(
        1 - (1 - q0 @ q0) * (1 - 1 / 150), rel=1e-6)  # not the Replace chain
