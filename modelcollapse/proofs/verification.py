r"""Verification (Feng et al. 2024, arXiv 2406.07515): a verifier keeps an emitted sample
:math:`x` with probability :math:`a(x)`, and samples are drawn until n are kept. The kept
samples are independent with law :math:`q a / E_q[a]`, and the raw draws needed for n are
negative binomial, mean :math:`n / E_q[a]`, variance :math:`n(1 - E_q a)/(E_q a)^2`. For a
two-token model of a label that is right or wrong (acceptance :math:`\phi` of a right one,
:math:`\psi` of a wrong one), the kept error rate is :math:`p\psi/(p\psi + (1-p)\phi)`:
the verifier helps exactly when :math:`\psi < \phi`. Retrained on verified samples of
itself, the chain fixes on an accepted token.

Checks: the map in rational arithmetic; the rejection loop simulated (kept frequencies
and raw draws, |z| < 5; the unverified law as negative control); the simulators'
retraining under a verifier against the exact chain (fixation and expected fit), the
unverified values as negative control.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .. import theory
from ..curation import Verifier, curate_samples, curated_distribution, exact_curated_distribution
from ..models import Categorical
from ..montecarlo import simulate
from ..regimes import Replace
from ._registry import Theorem, close, mean_se, zcheck, zreject

KEY = "curation.verifier"
P0 = Categorical([0.5, 0.3, 0.2])


def checks():
    rows = []
    q = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    cur = Verifier([1.0, 0.5, 0.25])
    ex = exact_curated_distribution(q, cur)
    qf = np.array([float(v) for v in q])
    rows.append(close(KEY, "q a / E_q a", "rational arithmetic",
                      float(np.abs(curated_distribution(qf, cur) - [float(v) for v in ex])
                            .max()), 0.0, atol=1e-15))
    # kept error rate of a right/wrong label (token 0 right, token 1 wrong)
    p, phi, psi = 0.3, 0.9, 0.2
    kept = curated_distribution(np.array([1 - p, p]), Verifier([phi, psi]))[1]
    rows.append(close(KEY, "kept error rate p psi / (p psi + (1-p) phi)", "closed form",
                      kept, p * psi / (p * psi + (1 - p) * phi), rtol=1e-14))
    # the rejection loop itself
    rng = np.random.default_rng(2406)
    n, reps = 200, 4000
    acc = float(qf @ cur.vector)
    raws, freq = np.empty(reps), np.zeros(3)
    for i in range(reps):
        tok, raws[i] = curate_samples(rng, qf, n, cur)
        freq += np.bincount(tok, minlength=3)
    freq /= n * reps
    law = np.array([float(v) for v in ex])
    se = np.sqrt(law * (1 - law) / (n * reps))
    for i in range(3):
        rows.append(zcheck(KEY, f"kept share of token {i}", "simulated rejection", freq[i],
                           law[i], se[i]))
    rows.append(zreject(KEY, "control: unverified share of token 2", "must be rejected",
                        freq[2], qf[2], se[2]))
    rows.append(zcheck(KEY, "raw draws for n kept: n / E_q a", "simulated rejection",
                       raws.mean(), n / acc, math.sqrt(n * (1 - acc)) / acc / math.sqrt(reps)))
    # retraining on verified samples: the chain against the simulators
    reg = Replace(6, curation=Verifier([1.0, 0.4, 0.7]))
    fix = theory.curated_fixation(P0, reg)
    path = theory.curated_path(P0, reg, 3)
    for backend, seed in (("numba", 11), ("numpy", 12)):
        res = simulate(P0, reg, 60, replicates=6000, backend=backend, seed=seed,
                       tokens=[0, 1, 2], statistics=["token_prob"], record="all")
        tp = res.statistic("token_prob")
        won = tp[:, -1] == 1.0
        f0, p0 = won[:, 0].mean(), fix.probabilities[0]
        s0 = math.sqrt(p0 * (1 - p0) / len(won))
        rows.append(zcheck(KEY, f"P(fix on token 0), {backend}", "simulation", f0, p0, s0))
        rows.append(zreject(KEY, f"control: neutral fixation p0[0], {backend}",
                            "must be rejected", f0, P0.p[0], s0))
        m3, se3 = mean_se(tp[:, 3, 1])
        rows.append(zcheck(KEY, f"E[p^(3)_1], {backend}", "simulation", m3, path.mean[1],
                           se3))
        ct, sct = mean_se(res.collapse_time.astype(float))
        rows.append(zcheck(KEY, f"E[collapse time], {backend}", "simulation", ct,
                           fix.mean_time, sct))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Verification: the kept law q a / E a, its cost, and retraining on it",
    source="Feng et al. 2024, arXiv 2406.07515; docs/theory/mitigations.md",
    statement=__doc__.split("\n\n")[0],
    checks=checks,
)
