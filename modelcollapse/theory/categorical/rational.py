r"""Exact rational arithmetic on the full multinomial chain (tiny cases only).

The state is the vector of counts of the ``s`` tokens of the support, a composition
of ``n`` into ``s`` parts (:math:`\binom{n+s-1}{s-1}` states), with exact multinomial
transition probabilities in :class:`fractions.Fraction`. This is the third, fully
independent computation against which the coalescent and marginal solvers are tested.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from math import comb, factorial

import sympy

from ...models import exact_probabilities

__all__ = [
    "collapse_cdf",
    "compositions",
    "expected_collapse_time",
    "homozygosity",
    "mix_expectations",
    "mix_homozygosity",
    "mix_l1_first",
    "replace_chain",
    "token_survival",
]

MAX_STATES = 400


def _fractions(p) -> tuple[Fraction, ...]:
    """The support of ``p`` as exact rationals (see ``models.exact_probabilities``)."""
    return tuple(x for x in exact_probabilities(p) if x > 0)


@lru_cache(maxsize=64)
def compositions(n: int, s: int) -> tuple[tuple[int, ...], ...]:
    if s == 1:
        return ((n,),)
    out = []
    for first in range(n, -1, -1):
        for rest in compositions(n - first, s - 1):
            out.append((first, *rest))
    return tuple(out)


def _multinomial(y: tuple[int, ...], probs: tuple[Fraction, ...], n: int) -> Fraction:
    coef = factorial(n)
    for yi in y:
        coef //= factorial(yi)
    out = Fraction(coef)
    for yi, pi in zip(y, probs, strict=True):
        if yi:
            if pi == 0:
                return Fraction(0)
            out *= pi**yi
    return out


def _transition(states, n):
    P = []
    for x in states:
        probs = tuple(Fraction(xi, n) for xi in x)
        P.append([_multinomial(y, probs, n) for y in states])
    return P


def _step(law, P):
    k = len(law)
    return [sum(law[i] * P[i][j] for i in range(k) if law[i]) for j in range(k)]


def replace_chain(p, n: int, generations: int):
    r"""Exact laws of ``p^(m)``, ``m = 1..generations``, under ``Replace(n)``.

    Returns ``(states, laws, P)`` with ``laws[m-1][k] = P(X^(m) = states[k])``.
    """
    probs = _fractions(p)
    s = len(probs)
    if comb(n + s - 1, s - 1) > MAX_STATES:
        raise ValueError(f"the exact chain has more than {MAX_STATES} states")
    states = compositions(n, s)
    P = _transition(states, n)
    law = [_multinomial(y, probs, n) for y in states]
    laws = [law]
    for _ in range(generations - 1):
        law = _step(law, P)
        laws.append(law)
    return states, laws, P


def collapse_cdf(p, n: int, generations: int) -> list[Fraction]:
    """Exact :math:`\\rho_m = P(T \\le m)` for ``m = 0..generations``."""
    if len(_fractions(p)) == 1:
        return [Fraction(0)] + [Fraction(1)] * generations
    states, laws, _ = replace_chain(p, n, generations)
    dirac = [sum(1 for xi in x if xi) == 1 for x in states]
    return [Fraction(0)] + [sum((w for w, d in zip(law, dirac, strict=True) if d), Fraction(0))
                            for law in laws]


def expected_collapse_time(p, n: int) -> Fraction:
    r""":math:`E[T] = 1 + \pi_1 (I-Q)^{-1} \mathbf 1` on the non-Dirac states, exactly."""
    probs = _fractions(p)
    if len(probs) == 1:
        return Fraction(1)
    states, laws, P = replace_chain(probs, n, 1)
    trans = [k for k, x in enumerate(states) if sum(1 for xi in x if xi) > 1]
    t = len(trans)
    A = sympy.zeros(t, t)
    for a, i in enumerate(trans):
        for b, j in enumerate(trans):
            A[a, b] = sympy.Rational(int(i == j)) - sympy.Rational(P[i][j].numerator,
                                                                    P[i][j].denominator)
    ones = sympy.ones(t, 1)
    x = A.LUsolve(ones)
    pi1 = laws[0]
    total = Fraction(1)
    for a, i in enumerate(trans):
        v = sympy.Rational(x[a])
        total += pi1[i] * Fraction(int(v.p), int(v.q))
    return total


def homozygosity(p, n: int, generations: int) -> list[Fraction]:
    r"""Exact :math:`S_m = E\sum_i (p^{(m)}_i)^2` for ``m = 0..generations``."""
    probs = _fractions(p)
    out = [sum(x * x for x in probs)]
    states, laws, _ = replace_chain(probs, n, generations)
    sq = [Fraction(sum(xi * xi for xi in x), n * n) for x in states]
    out += [sum(w * v for w, v in zip(law, sq, strict=True)) for law in laws]
    return out


def token_survival(p, n: int, token: int, generations: int) -> list[Fraction]:
    """Exact :math:`P(p^{(m)}_i > 0)` for ``m = 0..generations`` (token in the support)."""
    full = exact_probabilities(p)
    support = [i for i, x in enumerate(full) if x > 0]
    if token not in support:
        return [Fraction(0)] * (generations + 1)
    pos = support.index(token)
    states, laws, _ = replace_chain(full, n, generations)
    return [Fraction(1)] + [
        sum((w for w, x in zip(law, states, strict=True) if x[pos] > 0), Fraction(0))
        for law in laws
    ]


def mix_expectations(p, real: int, synthetic: int, generations: int, f) -> list[Fraction]:
    r"""Exact :math:`E f(p^{(m)}, p^{(1)})` under ``Mix(real=N, synthetic=n)`` for
    ``m = 1..generations`` (``f`` maps two tuples of Fractions to a Fraction).

    Enumerates the ``N`` real samples (``p^(1)`` their empirical law), then the chain of
    synthetic counts ``X`` with :math:`p^{(m+1)} = (1-\alpha)p^{(1)} + \alpha X/n`,
    :math:`X \sim \mathrm{Mult}(n, p^{(m)})`, :math:`\alpha = n/(N+n)`.
    """
    probs = _fractions(p)
    s = len(probs)
    N, n = real, synthetic
    alpha = Fraction(n, N + n)
    if comb(N + s - 1, s - 1) * comb(n + s - 1, s - 1) > MAX_STATES * 10:
        raise ValueError("the exact Mix enumeration is too large")
    out = [Fraction(0)] * generations
    syn_states = compositions(n, s)
    for r in compositions(N, s):
        w_r = _multinomial(r, probs, N)
        if w_r == 0:
            continue
        p1 = tuple(Fraction(ri, N) for ri in r)
        models = [tuple((1 - alpha) * a + alpha * Fraction(b, n)
                        for a, b in zip(p1, x, strict=True)) for x in syn_states]
        if generations >= 1:
            out[0] += w_r * f(p1, p1)
        # law over the synthetic counts that made the current model
        law = None
        for m in range(2, generations + 1):
            if law is None:
                law = [_multinomial(y, p1, n) for y in syn_states]
            else:
                new = [Fraction(0)] * len(syn_states)
                for i, pm in enumerate(models):
                    if law[i]:
                        for j, y in enumerate(syn_states):
                            new[j] += law[i] * _multinomial(y, pm, n)
                law = new
            out[m - 1] += w_r * sum((law[i] * f(pm, p1) for i, pm in enumerate(models)
                                     if law[i]), Fraction(0))
    return out


def mix_homozygosity(p, real: int, synthetic: int, generations: int) -> list[Fraction]:
    r"""Exact :math:`S_m` under ``Mix(real=N, synthetic=n)``, ``m = 0..generations``
    (:func:`mix_expectations` of :math:`\sum_i (p^{(m)}_i)^2`)."""
    S0 = sum(x * x for x in _fractions(p))
    later = mix_expectations(p, real, synthetic, generations,
                             lambda pm, p1: sum(v * v for v in pm))
    return [S0, *later]


def mix_l1_first(p, real: int, synthetic: int, generations: int) -> list[Fraction]:
    r"""Exact :math:`E\|p^{(m)} - p^{(1)}\|_1` under ``Mix(real=N, synthetic=n)``,
    ``m = 1..generations`` (:func:`mix_expectations`)."""
    return mix_expectations(p, real, synthetic, generations,
                            lambda pm, p1: sum(abs(a - b) for a, b in zip(pm, p1, strict=True)))
