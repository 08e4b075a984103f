r"""Curated retraining (Ferbach et al. 2024, arXiv 2407.09499): each kept sample is chosen
among K candidates by a Luce / Bradley--Terry model of a reward r. The kept law is
:math:`\mathcal{C}_K(q)_x = K q_x e^{r_x} E[1/(e^{r_x} + \sum_{j<K} e^{r(X_j)})]`, a 1-D
integral; as :math:`K \to \infty`, :math:`q \propto q e^{r}` (their Lemma 2.1); the
expected :math:`e^{r}` rises by at least :math:`\frac{K-1}{K}\mathrm{Var}_q[e^r]/e^{r^*}`
per generation (their Lemma 2.2, as transcribed in secondary notes); with finite n the
chain is Wright--Fisher with selection and fixes on one token, most often a maximiser of
the reward (their Theorem 2.1 in the limit of infinitely many samples).

Checks: the quadrature map against rational enumeration of the candidates, and its
:math:`O(1/K)` approach to the tilt; Lemma 2.2 in rational arithmetic; the exact chain
(float against rational; its expected reward rising); the chain against seeded
simulation of the selection itself (fixation frequencies, collapse time, expected fit),
the neutral values as negative controls; the selection diffusion and Kimura's formula
against the chain at large n.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .. import theory
from ..curation import BestOfK, curated_distribution, exact_curated_distribution
from ..models import Categorical
from ..montecarlo import simulate
from ..regimes import Replace
from ._registry import Theorem, close, mean_se, within, zcheck, zreject

KEY = "curation.best-of-k"
P0 = Categorical([0.5, 0.3, 0.2])
R = [0.0, 1.0, 2.0]


def checks():
    rows = []
    q = [Fraction(2, 5), Fraction(3, 10), Fraction(1, 5), Fraction(1, 10)]
    r = [0.0, 1.0, -0.5, 2.0]
    qf = np.array([float(v) for v in q])
    for k in (2, 5):
        cur = BestOfK(r, k)
        ex = exact_curated_distribution(q, cur)
        fl = curated_distribution(qf, cur)
        rows.append(close(KEY, f"C_K(q) by quadrature, K={k}", "rational enumeration",
                          float(np.abs(fl - [float(v) for v in ex]).max()), 0.0, atol=1e-12))
        # Lemma 2.2: E_{C_K q}[w] >= E_q[w] + (K-1)/K Var_q[w] / w_max, exactly
        w = cur.exact_weights()
        Ew = sum(a * b for a, b in zip(q, w, strict=True))
        Ew2 = sum(a * b * b for a, b in zip(q, w, strict=True))
        gain = sum(a * b for a, b in zip(ex, w, strict=True)) - Ew
        bound = Fraction(k - 1, k) * (Ew2 - Ew * Ew) / max(w)
        rows.append(within(KEY, f"Lemma 2.2: gain - (K-1)/K Var_q[w]/w* >= 0, K={k}",
                           "rational arithmetic", float(gain - bound), 0.0, math.inf))
    tilt = curated_distribution(qf, BestOfK(r, math.inf))
    gaps = [float(np.abs(curated_distribution(qf, BestOfK(r, k)) - tilt).max())
            for k in (100, 1000)]
    rows.append(within(KEY, "Lemma 2.1: C_K -> q e^r / E e^r, gap ratio K=100/1000",
                       "quadrature", gaps[0] / gaps[1], 8.0, 12.0))
    # the exact chain: float against rational, the reward rising
    reg = Replace(3, curation=BestOfK(R, 3))
    ex = theory.curated_fixation(P0, reg, exact=True)
    fl = theory.curated_fixation(P0, reg)
    rows.append(close(KEY, "fixation probabilities, n=3, K=3", "rational chain",
                      float(np.abs(fl.probabilities - [float(v) for v in
                                                        ex.probabilities]).max()),
                      0.0, atol=1e-12))
    rows.append(close(KEY, "mean collapse time, n=3, K=3", "rational chain",
                      float(fl.mean_time), float(ex.mean_time), rtol=1e-12))
    path = theory.curated_path(P0, reg, [1, 2, 3, 4, 5], exact=True)
    step = min(b - a for a, b in zip(path.reward, path.reward[1:], strict=False))
    rows.append(within(KEY, "E[r . p^(m)] rises with m: least rise, m=1..5, n=3, K=3",
                       "rational chain", float(step), 1e-300, math.inf))
    # the chain against the simulated selection itself
    n, reps = 6, 20_000
    reg = Replace(n, curation=BestOfK(R, 3))
    fix = theory.curated_fixation(P0, reg)
    path = theory.curated_path(P0, reg, 4)
    res = simulate(P0, reg, 300, replicates=reps, seed=2407, tokens=[0, 1, 2], record="all",
                   statistics=["token_prob"])
    tp = res.statistic("token_prob")
    won = (tp[:, -1] == 1.0)
    for i in range(3):
        f, pi = won[:, i].mean(), fix.probabilities[i]
        rows.append(zcheck(KEY, f"P(fix on token {i}), n={n}, K=3", "simulation", f, pi,
                           math.sqrt(pi * (1 - pi) / reps)))
    f2 = won[:, 2].mean()
    rows.append(zreject(KEY, "control: neutral fixation p0[2]", "must be rejected", f2,
                        P0.p[2], math.sqrt(P0.p[2] * (1 - P0.p[2]) / reps)))
    ct = res.collapse_time
    mean, se = mean_se(ct.astype(float))
    rows.append(zcheck(KEY, f"E[collapse time], n={n}, K=3", "simulation", mean,
                       fix.mean_time, se))
    neutral = float(theory.expected_collapse_time(P0, Replace(n)))
    rows.append(zreject(KEY, "control: neutral E[T]", "must be rejected", mean, neutral, se))
    m4, se4 = mean_se(tp[:, 4] @ np.array(R))
    rows.append(zcheck(KEY, "E[r . p^(4)]", "simulation", m4, path.reward, se4))
    # diffusion and Kimura against the chain, two tokens, 2ns = 10
    two = Categorical([0.3, 0.7])
    for k in (3, math.inf):
        reg = Replace(400, curation=BestOfK([5.0 / 400, 0.0], k))
        ch = theory.curated_fixation(two, reg, method="chain")
        df = theory.curated_fixation(two, reg, method="diffusion")
        rows.append(close(KEY, f"diffusion fixation, n=400, K={k}", "exact chain",
                          df.probabilities[0], ch.probabilities[0], atol=2.5e-3))
        rows.append(close(KEY, f"diffusion mean time, n=400, K={k}", "exact chain",
                          df.mean_time, ch.mean_time, rtol=1.25e-2))
    kim = theory.curated_fixation(two, reg, method="kimura")
    rows.append(close(KEY, "Kimura u = (1-e^{-2nsz})/(1-e^{-2ns}), K=inf", "exact chain",
                      kim.probabilities[0], ch.probabilities[0], atol=2e-2))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Curation by a reward: best-of-K selection is Wright-Fisher with selection",
    source="Ferbach et al. 2024, arXiv 2407.09499, Lemmas 2.1-2.2, Theorem 2.1; Kimura "
           "1962; docs/theory/mitigations.md",
    statement=__doc__.split("\n\n")[0],
    checks=checks,
)
