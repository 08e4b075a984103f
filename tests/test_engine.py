"""The second engine: sampling policies through every regime's plan on every backend,
registered fast paths equal in law to the generic loop, interrupts, numerical stability.

Distribution checks are seeded two-sample Kolmogorov--Smirnov tests at significance
1e-3, each with a negative control that must reject.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from modelcollapse import (
    Accumulate,
    AccumulateSubsample,
    Categorical,
    Gaussian,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
    theory,
)
from modelcollapse.montecarlo import (
    Problem,
    _engine,
    _numpy,
    check_problem,
    reference_simulate,
    simulate,
)

ALPHA = 1e-3
CAT = Categorical([0.4, 0.3, 0.15, 0.1, 0.05])
POLICY = {"temperature": 0.7, "top_k": 3, "top_p": 0.9}
POLICY_REGIMES = [Replace(12, **POLICY), Mix(6, 10, **POLICY),
                  Mix(6, 10, fresh=True, **POLICY), Accumulate(8, **POLICY),
                  AccumulateSubsample(8, **POLICY), MostRecent(12, 3, **POLICY),
                  RandomlySampled(10, **POLICY)]
STATS = ("homozygosity", "l1_first", "support_size")


def ks_p(a, b) -> float:
    return stats.ks_2samp(np.round(np.ravel(a), 10), np.round(np.ravel(b), 10)).pvalue


@pytest.fixture(scope="module")
def policy_reference():
    return {reg: reference_simulate(Problem(CAT, reg, statistics=STATS), 5, replicates=500,
                                    seed=21) for reg in POLICY_REGIMES}


def _jax_slow_unless(cases, keep):
    """(regime, backend) cases; JAX cases whose regime is not in ``keep`` go to the slow
    tier (each compiles for seconds; the regimes share the plan-driven core)."""
    return [pytest.param(r, b, marks=pytest.mark.slow) if b == "jax" and r not in keep
            else (r, b) for r, b in cases]


@pytest.mark.parametrize(("regime", "backend"), _jax_slow_unless(
    [(r, b) for r in POLICY_REGIMES for b in ("numpy", "numba", "jax")],
    [POLICY_REGIMES[0], POLICY_REGIMES[5]]),
    ids=lambda v: v if isinstance(v, str) else v.spec)
def test_sampling_policy_every_regime_every_backend(backend, regime, policy_reference):
    if backend == "jax":
        pytest.importorskip("jax")
    ref = policy_reference[regime]
    sim = simulate(CAT, regime, 5, replicates=500, backend=backend, seed=3,
                   statistics=STATS)
    for name in ("homozygosity", "l1_first"):
        assert ks_p(ref[name][:, -1], sim[name][:, -1]) > ALPHA, name


def test_sampling_policy_negative_control(policy_reference):
    """The same check rejects the plain-sampling chain (the policy changes the law)."""
    plain = simulate(CAT, Replace(12), 5, replicates=500, backend="numba", seed=3,
                     statistics=STATS)
    ref = policy_reference[Replace(12, **POLICY)]
    assert ks_p(ref["homozygosity"][:, -1], plain["homozygosity"][:, -1]) < ALPHA


def test_top_k_bounds_the_support():
    """Exact consequence of top-k under Replace: from generation 2 on, every fit lives on
    at most k tokens (generation 1 is drawn from the real distribution)."""
    for backend in ("numpy", "numba"):
        res = simulate(Categorical.uniform(20), Replace(50, top_k=4), 6, replicates=50,
                       backend=backend, seed=0, statistics="support_size")
        s = res["support_size"]
        assert s[:, 1].max() > 4 and s[:, 2:].max() <= 4


def test_numpy_fast_path_equals_generic_loop_in_law():
    """The registered counts fast path (plain categorical Replace) against the generic
    plan loop of the same backend; negative control: another n."""
    problem = check_problem(CAT, Replace(12), (4,), None, 0.01)
    assert _engine._kernel_class("numpy", problem) is _numpy.ReplaceCountsKernel
    fast = simulate(CAT, Replace(12), 8, replicates=800, backend="numpy", seed=1, tokens=[4])
    slow_cls = _numpy.CategoricalKernel
    kern = slow_cls(problem, 800, np.random.SeedSequence(2))
    rows = [kern.initial(), kern.advance(0, 8)]
    slow = {k: np.concatenate([r[k] for r in rows], axis=1) for k in rows[0]}
    for name in ("homozygosity", "entropy", "l1_real", "kl_real", "l1_first", "kl_first",
                 "support_size", "token_prob"):
        assert ks_p(fast[name][:, -1], slow[name][:, -1]) > ALPHA, name
    other = simulate(CAT, Replace(6), 8, replicates=800, backend="numpy", seed=1)
    assert ks_p(other["homozygosity"][:, -1], slow["homozygosity"][:, -1]) < ALPHA


def test_numpy_fast_path_statistics_are_exact_functions_of_the_fit():
    """Statistics computed over the survivors equal the dense definitions evaluated on
    the same fitted vectors (token_prob reconstructs each replicate's fit)."""
    from modelcollapse.montecarlo import _stats

    model = Categorical.zipf(6, 1.0)
    res = simulate(model, Replace(9), 4, replicates=30, backend="numpy", seed=4,
                   tokens=list(range(6)))
    P = res["token_prob"]  # (R, G+1, V): the whole fit
    P1 = P[:, 1]
    for m in range(1, 5):
        dense = _stats.categorical_stats(P[:, m], model.p, P1, np.arange(6),
                                         [n for n in _stats.STATISTICS["categorical"]
                                          if n != "token_prob" and n not in _stats.OPT_IN])
        for name, v in dense.items():
            np.testing.assert_allclose(res[name][:, m], v, rtol=1e-12, atol=1e-14)


def test_collapse_runs_on_the_fast_path_match_theory():
    """Mean collapse time of the numpy fast path within 5 s.e. (exact variance) of the
    exact law."""
    model, reg = Categorical([0.5, 0.3, 0.2]), Replace(20)
    res = simulate(model, reg, None, replicates=2000, backend="numpy", seed=7,
                   statistics=())
    law = theory.collapse_time(model, reg)
    z = (res.collapse_time.mean() - law.mean()) / np.sqrt(law.var() / 2000)
    assert abs(z) < 5
    assert abs((res.collapse_time.mean() - law.mean() * 0.8) / np.sqrt(law.var() / 2000)) > 5


@pytest.mark.parametrize("backend", ["numpy", "numba",
                                     pytest.param("jax", marks=pytest.mark.slow)])
def test_multivariate_gaussian_replace_long_run_is_stable(backend):
    """d = 3, M = 10, Replace, 200 generations: every log-determinant is finite and their
    mean is within 5 s.e. of the exact E log det (theory.log_det_moments)."""
    model = Gaussian(np.zeros(3), np.eye(3))
    res = simulate(model, Replace(10), 200, replicates=400, backend=backend, seed=0,
                   statistics=("logdet_ratio",))
    ld = res["logdet_ratio"][:, -1]
    assert np.isfinite(res["logdet_ratio"]).all()
    mean, var = theory.log_det_moments(model, Replace(10), 200)
    assert abs((ld.mean() - mean) / np.sqrt(var / ld.size)) < 5
    assert abs((ld.mean() - 1.05 * mean) / np.sqrt(var / ld.size)) > 5  # negative control


# ---------------------------------------------------------------------- recording
@pytest.mark.parametrize(("regime", "backend"), _jax_slow_unless(
    [(r, b) for r in (Replace(8), Mix(4, 6)) for b in ("numpy", "numba", "jax")],
    [Replace(8)]), ids=lambda v: v if isinstance(v, str) else repr(v))
def test_recording_policies_keep_exactly_the_chosen_generations(backend, regime):
    """record=k / "last" keep generation 0, every k-th and the last; their values are
    exactly those of the full record (same seed: skipping statistics does not touch the
    random stream)."""
    if backend == "jax":
        pytest.importorskip("jax")
    kw = {"replicates": 6, "backend": backend, "seed": 2, "tokens": [4], "chunk": 7}
    full = simulate(CAT, regime, 23, **kw)
    assert np.array_equal(full.recorded, np.arange(24))
    for record, gens in ((5, [0, 5, 10, 15, 20, 23]), ("last", [0, 23]), ("all", range(24))):
        part = simulate(CAT, regime, 23, record=record, **kw)
        assert np.array_equal(part.recorded, list(gens))
        for name in full.names:
            assert np.array_equal(part[name], full[name][:, list(gens)], equal_nan=True), name
        assert np.array_equal(part.collapse_time, full.collapse_time)
        assert np.array_equal(part.token_loss_time, full.token_loss_time)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_runs_to_collapse_thin_their_record(backend, monkeypatch):
    """record="auto" on a run to collapse keeps at most MAX_COLUMNS (+ the last) columns,
    at multiples of a doubling stride, with the values of the full record."""
    from modelcollapse.montecarlo import _record

    monkeypatch.setattr(_record, "MAX_COLUMNS", 8)
    model = Categorical.uniform(4)
    kw = {"replicates": 5, "backend": backend, "seed": 9, "chunk": 3}
    full = simulate(model, Replace(30), None, record="all", **kw)
    thin = simulate(model, Replace(30), None, **kw)
    assert thin.generations == full.generations == full.collapse_time.max()
    rec = thin.recorded
    assert rec[0] == 0 and rec[-1] == thin.generations and len(rec) <= 9
    stride = rec[1] - rec[0]
    assert stride > 1 and all(g % stride == 0 for g in rec[:-1])
    for name in full.names:
        assert np.array_equal(thin[name], full[name][:, rec], equal_nan=True), name


def test_saved_results_keep_their_recorded_generations(tmp_path):
    from modelcollapse import montecarlo

    res = simulate(CAT, Replace(8), 20, replicates=3, backend="numpy", seed=0, record=6)
    back = montecarlo.load(res.save(tmp_path / "r.npz"))
    assert np.array_equal(back.recorded, [0, 6, 12, 18, 20])
    assert np.array_equal(back["homozygosity"], res["homozygosity"])


@pytest.mark.parametrize("record", ["every", 0, -3, 2.5, True])
def test_bad_record(record):
    with pytest.raises(ValueError, match="record"):
        simulate(CAT, Replace(8), 5, replicates=2, backend="numpy", record=record)


# ---------------------------------------------------------------------- memory
def test_oversized_requests_are_refused_before_any_work(monkeypatch):
    from modelcollapse.errors import TooLargeError
    from modelcollapse.montecarlo import _kernel

    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was built for a request that must be refused")

    with monkeypatch.context() as mp:  # refused before any kernel (state) exists
        mp.setattr(_kernel.Kernel, "__init__", no_kernel)
        with pytest.raises(TooLargeError, match=r"needs about .*record='last'.*max_memory"):
            simulate(Categorical.uniform(1000), Replace(10), 10**6, replicates=10**4,
                     backend="numba")
        with pytest.raises(ValueError, match="needs about"):  # a ValueError, too
            simulate(Gaussian(np.zeros(2), 1.0), AccumulateSubsample(10**6), 10**4,
                     replicates=100, backend="numpy")
    # the same request fits once little is recorded, or under a raised limit
    small = simulate(CAT, Replace(5), 50, replicates=4, backend="numpy", max_memory="1MB")
    assert small.generations == 50
    with pytest.raises(TooLargeError):
        simulate(CAT, Replace(5), 5000, replicates=200, backend="numpy", max_memory="1MB")
    ok = simulate(CAT, Replace(5), 5000, replicates=200, backend="numpy", max_memory="1MB",
                  record="last", statistics=("homozygosity",))
    assert ok["homozygosity"].shape == (200, 2)


HUGE_N = 10**12


def _replace_deviation_ok(res, n):
    """Whether ``res`` (token_prob of every token, plain Replace) is within |z| < 5 of
    the exact law of ``Replace(n)``: each p_i^(m) is a martingale with variance
    p_i(1 - p_i)(1 - (1 - 1/n)^m); per generation and token, the replicates' mean
    deviation (|z| < 5) and their variance (ratio to the exact one within 5 standard
    errors of a chi-square, sqrt(2 / R))."""
    p = res.model.p
    R = res.replicates
    for m in range(1, res.generations + 1):
        var = p * (1 - p) * -np.expm1(m * np.log1p(-1 / n))
        dev = res.at("token_prob", m) - p
        if np.any(np.abs(dev.mean(axis=0) / np.sqrt(var / R)) >= 5):
            return False
        ratio = (dev**2).mean(axis=0) / var
        if np.any(np.abs(ratio - 1) >= 5 * np.sqrt(2 / R)):
            return False
    return True


@pytest.mark.parametrize("backend", ["numba", "numpy",
                                     pytest.param("jax", marks=pytest.mark.slow)])
def test_counts_runs_need_no_memory_proportional_to_n(backend, monkeypatch):
    """n = 10**12 on counts: runs under a 64 MB limit (nothing the size of n is
    allocated, nor counted by the preflight) and follows the exact law; the same check
    rejects a run of n / 100 (negative control)."""
    if backend == "jax":
        pytest.importorskip("jax")
    model = Categorical([0.5, 0.3, 0.2])
    kw = {"replicates": 400, "backend": backend, "seed": 3, "tokens": [0, 1, 2],
          "statistics": ("token_prob",), "max_memory": "64MB"}
    res = simulate(model, Replace(HUGE_N), 5, **kw)
    assert res.generations == 5 and res["token_prob"].shape == (400, 6, 3)
    assert _replace_deviation_ok(res, HUGE_N)
    small = simulate(model, Replace(HUGE_N // 100), 5, **kw)
    assert not _replace_deviation_ok(small, HUGE_N)  # 100 times the variance: seen
    assert _replace_deviation_ok(small, HUGE_N // 100)


def test_sample_size_memory_is_refused_naming_n(monkeypatch):
    """What does grow with n (a subsample of the pool: Floyd's set; parents drawn while
    most tokens survive) is in the preflight: refused before any kernel exists, the
    message naming the regime's n."""
    from modelcollapse.errors import TooLargeError
    from modelcollapse.montecarlo import _kernel

    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was built for a request that must be refused")

    monkeypatch.setattr(_kernel.Kernel, "__init__", no_kernel)
    with pytest.raises(TooLargeError, match=r"scratch .*smaller n than 1000000000 in "
                                             r"AccumulateSubsample"):
        simulate(CAT, AccumulateSubsample(10**9), 3, replicates=2, backend="numba")
    with pytest.raises(TooLargeError, match="scratch"):  # numpy parents: 4 x R x n int64
        simulate(Categorical.uniform(10**5), Replace(5 * 10**5), 3, replicates=100,
                 backend="numpy", max_memory="1GB")
    # a small vocabulary never draws parents: the same n costs no scratch
    pr = check_problem(CAT, Replace(10**6))
    assert _numpy.ReplaceCountsKernel.scratch_bytes(pr, 100) == 0
    from modelcollapse.montecarlo._numba import ReplaceCountsKernel

    assert ReplaceCountsKernel.scratch_bytes(pr, 100) == 0


def test_memory_sizes_parse():
    from modelcollapse.montecarlo._memory import parse_bytes

    assert parse_bytes("8GB") == 8 * 10**9 and parse_bytes("512 MiB") == 512 * 2**20
    assert parse_bytes(1000) == 1000 and parse_bytes("1.5k") == 1500
    for bad in ("lots", "-1GB", 0, "3 parsecs", True, float("inf")):
        with pytest.raises(ValueError, match="max_memory"):
            parse_bytes(bad)


def test_memory_estimate_of_the_long_cli_run_is_under_a_gigabyte():
    """``--uniform 100 --n 10000 --generations collapse`` (1000 replicates, default
    statistics): the thinned record keeps its estimate under 1 GB (measured peak:
    benchmarks/bench_engine.py)."""
    from modelcollapse.montecarlo import _engine, _memory
    from modelcollapse.montecarlo._record import Recorder

    pr = check_problem(Categorical.uniform(100), Replace(10_000))
    horizon = _engine._memory_horizon(pr)
    cols = Recorder("auto", to_collapse=True).columns_for(horizon)
    est = _memory.estimate(pr, _engine.kernel_names(pr), 1000, horizon, cols, 1000, "numba")
    assert est["total"] < 1e9
    everything = _memory.estimate(pr, _engine.kernel_names(pr), 1000, horizon, horizon + 1,
                                  1000, "numba")
    assert everything["total"] > 4e9  # what recording every generation would need


@pytest.mark.parametrize("backend", ["numpy", "numba",
                                     pytest.param("jax", marks=pytest.mark.slow)])
def test_gaussian_with_n_at_most_d(backend):
    """n <= d: the fit is singular, yet its mean and trace follow the exact moment
    formulas (|z| < 5, exact trace variance not needed: a seeded mean of a positive
    variable with its sample s.e.), and the generalised variance is 0 at once."""
    if backend == "jax":
        pytest.importorskip("jax")
    model = Gaussian(np.zeros(4), np.eye(4), estimator="mle")
    res = simulate(model, Replace(3), 6, replicates=4000, backend=backend, seed=5,
                   statistics=("trace_ratio", "mean_sq_error", "logdet_ratio"))
    gens = np.arange(7)
    for name, exact in (("trace_ratio", theory.expected_trace_ratio(model, Replace(3), gens)),
                        ("mean_sq_error",
                         theory.expected_mean_error(model, Replace(3), gens))):
        for t in range(1, 7):
            x = res[name][:, t]
            se = x.std(ddof=1) / np.sqrt(x.size)
            assert abs((x.mean() - exact[t]) / se) < 5, (name, t)
        x = res[name][:, 2]  # negative control: a 15% error is detected
        assert abs((x.mean() - 1.15 * exact[2]) / (x.std(ddof=1) / np.sqrt(x.size))) > 5
    assert np.all(res["logdet_ratio"][:, 1:] == -np.inf)
    assert np.all(res.collapse_time == 1)


def test_one_em_algorithm_on_every_backend():
    """The EM of the NumPy backend (``_em``), the Numba kernel and the JAX kernel are
    one algorithm: from the same data they reach the same fit (to rounding)."""
    from modelcollapse import GaussianMixture
    from modelcollapse.montecarlo import _em
    from modelcollapse.montecarlo._numba.mixture import _em as numba_em

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 1, (1, 60, 2)), rng.normal(2, 0.5, (1, 40, 2))],
                       axis=1)
    model = GaussianMixture.blob(2, components=2, max_iter=50, tol=1e-10)
    ref = _em.em_fit(X, *_em.em_init(X, 2), max_iter=50, tol=1e-10, reg_covar=1e-6)
    w, mu, cov = np.zeros(2), np.zeros((2, 2)), np.zeros((2, 2, 2))
    numba_em(X[0], True, w, mu, cov, 50, 1e-10, 1e-6)
    for got in ((w, mu, cov),):
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_allclose(a, b[0], rtol=1e-8, atol=1e-10)
    assert abs(ref[1][0, 0, 0] - ref[1][0, 1, 0]) > 1  # two separated components
    pytest.importorskip("jax")
    import jax.numpy as jnp

    from modelcollapse.montecarlo import _jax

    kern = _jax.MixtureKernel(check_problem(model, Replace(100)), 1,
                              np.random.SeedSequence(0))
    with _jax.x64():
        st = {"w": jnp.zeros(2), "mu": jnp.zeros((2, 2)), "cov": jnp.zeros((2, 2, 2))}
        got = kern.fit(jnp.asarray(X[0]), jnp.ones(100), st, jnp.asarray(1))
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_allclose(np.asarray(a), b[0], rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------------- files
def test_saving_is_atomic(tmp_path, monkeypatch):
    """An interrupted save leaves the previous file as it was and no temporary file."""
    res = simulate(CAT, Replace(5), 3, replicates=2, backend="numpy", seed=0)
    path = res.save(tmp_path / "r")  # .npz appended
    assert path.name == "r.npz"
    before = path.read_bytes()

    def broken(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(KeyboardInterrupt):
        simulate(CAT, Replace(5), 4, replicates=2, backend="numpy", seed=1).save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.npz"]


def test_load_names_the_file_and_the_problem(tmp_path):
    from modelcollapse import montecarlo

    res = simulate(CAT, Replace(5), 3, replicates=2, backend="numpy", seed=0)
    good = res.save(tmp_path / "good.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:200])
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.arange(3))
    text = tmp_path / "text.npz"
    text.write_text("hello")
    scalar = tmp_path / "scalar.npz"
    np.savez(scalar, a=1)
    with np.load(good) as f:  # a result's meta without its model
        meta = json.loads(str(f["meta"]))
    del meta["model"]
    no_model = tmp_path / "no_model.npz"
    np.savez(no_model, meta=np.array(json.dumps(meta)))
    meta["model"] = {"type": "no-such-model"}
    odd_model = tmp_path / "odd_model.npz"
    np.savez(odd_model, meta=np.array(json.dumps(meta)))
    for p, what in ((cut, "not an .npz"), (foreign, "no 'meta' entry .*entries: x"),
                    (scalar, "no 'meta' entry .*entries: a"),
                    (no_model, "'meta' entry has no 'model'$"),
                    (odd_model, "unknown model type 'no-such-model'"),
                    (text, "not an .npz"), (tmp_path, "not a file"),
                    (tmp_path / "missing.npz", "no such file")):
        with pytest.raises(ValueError, match=what) as exc:
            montecarlo.load(p)
        assert str(p) in str(exc.value) and type(exc.value) is ValueError
    assert montecarlo.load(good).generations == 3


def test_record_listed_generations_and_at():
    """record=[...] keeps generation 0, the listed generations and the last; at() picks
    columns by generation and names the missing ones."""
    model = Categorical([0.5, 0.3, 0.2])
    full = simulate(model, Replace(12), 30, replicates=50, seed=4, backend="numpy",
                    statistics=("homozygosity",), record="all")
    some = simulate(model, Replace(12), 30, replicates=50, seed=4, backend="numpy",
                    statistics=("homozygosity",), record=[3, 17, 99])
    np.testing.assert_array_equal(some.recorded, [0, 3, 17, 30])
    np.testing.assert_array_equal(some.at("homozygosity", [3, 17]),
                                  full["homozygosity"][:, [3, 17]])  # same stream
    np.testing.assert_array_equal(some.at("homozygosity", 30), full["homozygosity"][:, 30])
    assert some.at("homozygosity", 3).shape == (50,)
    with pytest.raises(ValueError, match=r"generation\(s\) 4 of 'homozygosity' were not"):
        some.at("homozygosity", 4)
    for bad in ([], [-1], [1.5], [[1, 2]]):
        with pytest.raises(ValueError, match="record"):
            simulate(model, Replace(12), 3, replicates=2, record=bad)
