r"""Sampling policies: exact collapse laws (docs/theory/policies.md; Marchi et al., arXiv
2404.02325).

Under ``Replace(n, temperature=T, top_k=k, top_p=P)`` generation 1 is ``n`` plain draws
from :math:`p^{(0)}` and generation ``m+1`` is ``n`` draws from :math:`\pi(p^{(m)})`
(temperature :math:`p^{1/T}/\sum p^{1/T}`, then top-k, then top-p). Dirac states stay
absorbing, so ``T`` (first ``m >= 1`` with :math:`p^{(m)}` a Dirac) is the absorption
time of a finite chain, lumped over sorted count vectors:
:math:`E[T] = 1 + \pi_1(I-Q)^{-1}\mathbf 1`. Large ``n``: ``T < 1`` doubles (``1/T``)
the log-ratio of the two leaders each generation, so
:math:`E[T] = 1 + \ln(\ln n/\ell_0)/\ln(1/T) + O(1)`, :math:`\ell_0 = \ln(p_{(1)}/p_{(2)})`
(log log n); ``T = 1`` is linear in ``n``; ``T > 1`` needs a large deviation against
the flattening drift, :math:`\ln E[T] \sim c(T)n` with the discrete Freidlin--Wentzell
rate :math:`c(T) = \min\sum_k \mathrm{KL}(y_{k+1}\|\pi(y_k))` (0.5515 at ``T = 2``).

Checks: the float solver against exact rational arithmetic (an independent
implementation of the policy) and against the (n+1)-state count chain written out
here; a seeded Numba simulation with the exact variance, plus a negative control (the
``T = 1`` value must be rejected by the same z-test); the measured growth rates against
the asymptotics. Marchi et al.'s text beyond the abstract was not reachable; their
abstract's claim ("any non-trivial temperature leads the model to asymptotically
degenerate ... either collapses to a small set of outputs, or becomes uniform over a
large set of outputs") is checked in its finite-``n`` form: ``T > 1`` does make the
model near-uniform for an exponentially long (metastable) time, but with finite ``n``
the Dirac states remain absorbing and collapse is certain, :math:`E[T] < \infty`.

The other regimes under a policy: the window chain of ``MostRecent`` (and ``Replace``)
and the pool chains of ``Accumulate`` / ``AccumulateSubsample`` draw from
:math:`\pi(\text{fit})` instead of the fit (the real model is sampled plainly); under
``RandomlySampled`` the law of the next fit depends on the multiset of past fits
(:math:`\pi` is not linear), which becomes the state. Checked here against the
partition chain (a second exact method, ``Replace``) and the Numba simulator; the tests
add a plain enumeration of every regime written from the definitions.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy import stats

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import MostRecent, RandomlySampled, Replace
from ..theory.categorical import policy_chain
from ._registry import Check, Theorem, close, within, zcheck, zreject, zsample

KEY = "policies.exact-chain"


def count_chain_moments(p0: float, n: int, T: float) -> tuple[float, float]:
    """(E[T], Var T) on the plain (n+1)-state count chain of token 0 of two tokens,
    written out independently of :mod:`modelcollapse.theory.categorical.policy_chain`:
    X1 ~ Bin(n, p0), X' ~ Bin(n, x^(1/T) / (x^(1/T) + (1-x)^(1/T))), x = X/n."""
    x = np.arange(n + 1) / n
    with np.errstate(divide="ignore"):
        a, b = x ** (1.0 / T), (1 - x) ** (1.0 / T)
    q = a / (a + b)
    M = stats.binom.pmf(np.arange(n + 1)[None, :], n, q[:, None])
    inner = np.arange(1, n)
    N = np.linalg.inv(np.eye(n - 1) - M[np.ix_(inner, inner)])
    t = N @ np.ones(n - 1)
    t2 = 2 * N @ t - t
    pi = stats.binom.pmf(inner, n, p0)
    mean = 1 + pi @ t
    return mean, 1 + 2 * pi @ t + pi @ t2 - mean**2


def checks() -> list[Check]:
    rows: list[Check] = []
    bar = Categorical([0.6, 0.4])
    frac = [Fraction(3, 5), Fraction(2, 5)]
    for reg in (Replace(10, temperature=0.5), Replace(10, top_p=0.7)):
        rows.append(close(KEY, f"E[T], p=(.6,.4), {reg!r}", "float chain vs Fraction chain",
                          float(theory.policy_expected_collapse_time(bar, reg)),
                          float(theory.policy_expected_collapse_time(frac, reg, exact=True)),
                          rtol=1e-12))
    three = Categorical([0.5, 0.3, 0.2])
    f3 = [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]
    for reg in (Replace(8, top_k=2), Replace(8, top_p=0.8), Replace(8, temperature=0.5,
                                                                      top_k=2)):
        rows.append(close(KEY, f"E[T], p=(.5,.3,.2), {reg!r}", "float chain vs Fraction chain",
                          float(theory.policy_expected_collapse_time(three, reg)),
                          float(theory.policy_expected_collapse_time(f3, reg, exact=True)),
                          rtol=1e-12))
    for T in (0.5, 2.0):
        reg = Replace(10, temperature=T)
        rows.append(close(KEY, f"E[T], p=(.6,.4), {reg!r}", "lumped chain vs count chain",
                          float(theory.policy_expected_collapse_time(bar, reg)),
                          count_chain_moments(0.6, 10, T)[0], rtol=1e-10))
    # seeded simulation with the exact variance, and a negative control
    R = 20_000
    reg = Replace(10, temperature=0.5)
    res = montecarlo.simulate(bar, reg, None, replicates=R, seed=20240, statistics=(),
                              record="last")
    sample = res.collapse_time.astype(np.float64)
    mean, var = theory.policy_collapse_moments(bar, reg)
    rows.append(zcheck(KEY, "E[T], p=(.6,.4), Replace(10, T=0.5)", f"numba simulation R={R}",
                       sample.mean(), mean, math.sqrt(var / R)))
    m1, v1 = theory.policy_collapse_moments(bar, Replace(10))
    rows.append(zreject(KEY, "negative control: the T=1 value at T=0.5 is rejected",
                        f"same z-test, R={R}", sample.mean(), m1, math.sqrt(v1 / R)))
    # the other regimes: the window chain (a second exact method under Replace), then
    # MostRecent and RandomlySampled against simulation
    for reg in (Replace(10, temperature=0.5), Replace(8, top_p=0.7)):
        rows.append(close(KEY, f"E[T], p=(.6,.4), {reg!r}", "window chain vs partition chain",
                          theory.overlapping_collapse_moments(bar, reg)[0],
                          float(theory.policy_expected_collapse_time(bar, reg)), rtol=1e-10))
    reg = MostRecent(6, 2, temperature=0.7)
    res = montecarlo.simulate(three, reg, 400, replicates=R, seed=20241, statistics=(),
                              record="last")
    sample = res.collapse_time.astype(np.float64)
    mean, var = theory.overlapping_collapse_moments(three, reg)
    rows.append(zcheck(KEY, f"E[T], p=(.5,.3,.2), {reg!r}", f"numba simulation R={R}",
                       sample.mean(), mean, math.sqrt(var / R)))
    m1, v1 = theory.overlapping_collapse_moments(three, MostRecent(6, 2))
    rows.append(zreject(KEY, "negative control: the plain MostRecent(6, 2) value is rejected",
                        f"same z-test, R={R}", sample.mean(), m1, math.sqrt(v1 / R)))
    reg = RandomlySampled(4, temperature=0.7)
    res = montecarlo.simulate(three, reg, 5, replicates=R, seed=20242,
                              statistics=("homozygosity",), record="last")
    rows.append(zsample(KEY, f"S_5, p=(.5,.3,.2), {reg!r}", f"numba simulation R={R}",
                        res["homozygosity"][:, -1], theory.overlapping_homozygosity(three, reg, 5)))
    # T > 1: exponential growth at the large-deviation rate
    c = theory.policy_ld_rate(2.0)
    lo = math.log(theory.policy_collapse_moments(bar, Replace(300, temperature=2.0))[0])
    hi = math.log(theory.policy_collapse_moments(bar, Replace(400, temperature=2.0))[0])
    rows.append(close(KEY, "T=2: d ln E[T]/dn between n=300 and 400", "Freidlin-Wentzell c(2)",
                      (hi - lo) / 100, c, rtol=2e-3))
    # T < 1: log log n growth
    for n in (20, 200, 1000):
        reg = Replace(n, temperature=0.5)
        ex = float(theory.policy_expected_collapse_time(bar, reg))
        lead = float(theory.policy_collapse_time_asymptotic(bar, reg, form="leading"))
        plain = float(theory.policy_expected_collapse_time(bar, Replace(n)))
        rows.append(within(KEY, f"T=0.5, n={n}: E[T] - (1 + log2(ln(n/ln2)/l0))",
                           "exact chain", ex - lead, 0.0, 1.0,
                           note=f"E[T]={ex:.4f} vs plain {plain:.1f}"))
    # Marchi et al.: near-uniform for an exponentially long time, collapse still certain
    n, M = 40, 200
    reg = Replace(n, temperature=2.0)
    chain = policy_chain.float_chain(bar, reg, "check")
    law = chain.pi1.copy()
    for _ in range(M - 1):
        law = law @ chain.P
    alive = law[1:] / law[1:].sum()
    minority = np.array([min(st) for st in chain.states[1:]]) / n
    near_uniform = float(alive[minority >= 0.3].sum())
    rows.append(within(KEY, f"T=2, n={n}: P(minority >= 0.3 | T > {M})",
                       "quasi-stationary law of the exact chain", near_uniform, 0.9, 1.0,
                       note=f"P(T <= {M}) = {law[0]:.2e}; E[T] = "
                            f"{float(theory.policy_expected_collapse_time(bar, reg)):.3e} < inf"))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Sampling policies: exact collapse laws; log log n (T<1), n (T=1), e^{cn} (T>1)",
    source="docs/theory/policies.md; Marchi et al. arXiv 2404.02325 (abstract only)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
)
