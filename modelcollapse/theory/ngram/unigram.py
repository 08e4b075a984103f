r"""The drift of an n-gram model's unigram (token) distribution: the integrated
autocorrelation time :math:`\tau` and the effective corpus size :math:`n/\tau`.

A generation's corpus counts token :math:`x` as often as the context chain enters a
context ending with :math:`x`: :math:`n f_x = \sum_t g_x(c_t)` with
:math:`g_x = G[:, x]`. For a stationary chain the asymptotic variance of such a sum is

.. math:: \sigma_x^2 = \lim_n \frac{1}{n}\mathrm{Var}\Bigl(\sum_{t=1}^n g_x(c_t)\Bigr)
   = u_x(1-u_x) + 2\langle g_x, (Z - I) g_x\rangle_\pi
   = u_x(1-u_x)\,\tau_x ,

(:math:`u = \pi G` the stationary unigram law, :math:`\langle a, b\rangle_\pi =
\sum_c \pi_c a_c b_c`), since :math:`\mathrm{Cov}(g(c_0), g(c_j)) = \langle g, A^j
g\rangle_\pi` and :math:`\sum_{j\ge1} A^j = Z - I`. :math:`\tau_x = 1 + 2\sum_{j \ge 1}
\rho_x(j)` is the token's integrated autocorrelation time: the corpus carries as much
information about :math:`u_x` as :math:`n/\tau_x` independent tokens would.

Exact, for ``S`` sequences of ``L`` tokens started from the stationary law (the counted
contexts :math:`c_1..c_L` are then all stationary):

.. math:: n^2\,\mathrm{Cov}(f) = S\,\bigl[L(\mathrm{diag}\,u - u u^\top) + K + K^\top\bigr],
   \qquad K = G^\top D_\pi (W_L - L I) G,

with :math:`W_L` of :mod:`.chain`; so :math:`n\,\mathrm{Var} f_x = \sigma_x^2 -
2 [G^\top D_\pi A Z^2 (I - A^L) G]_{xx}/L`, the error term of the asymptotic law being
:math:`O(1/L)` relative. From any other start law :math:`\mu` the moments follow from
:math:`E\,g(c_t) = \mu Q^t G` and the recursion :math:`H_j = Q(G + H_{j-1})` for
:math:`H_j = \sum_{d=1}^{j} Q^d G` (``O(L C^2 V)`` work).

Over generations (one sequence per generation, ``length=None``) each refit moves the
model's stationary law like one Wright--Fisher step of a unigram model trained on
:math:`N_e = n/\bar\tau` tokens, :math:`\bar\tau = \sum_x \sigma_x^2 / \sum_x
u_x(1-u_x)`, to first order in :math:`1/n`:
:math:`E\sum_x (f^{(m)}_x - u_x)^2 \approx (1 - \sum_x u_x^2)(1 - (1 - 1/N_e)^m)`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...errors import TooLargeError, UnsupportedRegimeError
from ...models import check_positive_int
from ...regimes import Replace, accepts_regime_spec
from .._results import Estimate, check_generations
from .chain import check_length, context_chain, segments

__all__ = ["AutocorrelationTime", "UnigramMoments", "ngram_autocorrelation_time",
           "ngram_unigram_drift", "ngram_unigram_moments"]

#: Largest ``L * C**2 * V`` the recursion from a non-stationary start law runs.
MAX_RECURSION_WORK = 2 * 10**9


class AutocorrelationTime(NamedTuple):
    """Integrated autocorrelation times of the token indicators of a stationary text.

    ``per_token`` :math:`\\tau_x` (``nan`` for a token of stationary probability 0 or
    1), ``overall`` :math:`\\bar\\tau = \\sum_x\\sigma_x^2/\\sum_x u_x(1-u_x)`,
    ``sigma2`` the asymptotic variances :math:`\\sigma_x^2`, ``unigram`` :math:`u`."""

    per_token: np.ndarray
    overall: float
    sigma2: np.ndarray
    unigram: np.ndarray


class UnigramMoments(NamedTuple):
    """Mean ``(V,)`` and covariance ``(V, V)`` of a generation's token frequencies."""

    mean: np.ndarray
    cov: np.ndarray
    method: str


def ngram_autocorrelation_time(model) -> AutocorrelationTime:
    r"""The integrated autocorrelation time :math:`\tau_x` of every token of the
    stationary text of an :class:`~modelcollapse.ngram.NGram` (module formulas).

    Examples
    --------
    >>> from modelcollapse import NGram
    >>> t = ngram_autocorrelation_time(NGram([[0.9, 0.1], [0.3, 0.7]]))
    >>> t.per_token.round(6)    # (1 + lambda) / (1 - lambda), lambda = 0.6
    array([4., 4.])
    """
    ch = context_chain(model)
    u = ch.unigram
    var = u * (1 - u)
    DZ = (ch.G * ch.pi[:, None]).T @ (ch.Z - np.eye(ch.Z.shape[0])) @ ch.G
    sigma2 = var + 2 * np.diag(DZ)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(var > 0, sigma2 / np.where(var > 0, var, 1.0), np.nan)
    overall = float(sigma2.sum() / var.sum()) if var.sum() > 0 else float("nan")
    return AutocorrelationTime(tau, overall, sigma2, u)


def _segment_stationary(ch, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the token counts of one stationary segment of ``L``."""
    u = ch.unigram
    C = ch.Q.shape[0]
    K = (ch.G * ch.pi[:, None]).T @ (ch.weighted_powers(L) - L * np.eye(C)) @ ch.G
    return L * u, L * (np.diag(u) - np.outer(u, u)) + K + K.T


def _segment_recursion(ch, L: int, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the token counts of one segment of ``L`` tokens whose
    first context has law ``mu``: second moments by the recursion on ``H_j``."""
    Q, G = ch.Q, ch.G
    C, V = G.shape
    laws = np.empty((L + 1, C))  # mu Q^t
    laws[0] = mu
    for t in range(1, L + 1):
        laws[t] = laws[t - 1] @ Q
    mean = laws[1:].sum(axis=0) @ G
    second = np.diag(mean).astype(float)  # E g_x(c_t)^2 terms: g is an indicator
    H = np.zeros((C, V))
    Hs = np.empty((L, C, V))  # Hs[j] = sum_{d=1}^{j} Q^d G
    Hs[0] = H
    for j in range(1, L):
        H = Q @ (G + H)
        Hs[j] = H
    cross = np.zeros((V, V))
    for s in range(1, L):  # pairs s < t <= L
        cross += (G * laws[s][:, None]).T @ Hs[L - s]
    second = second + cross + cross.T
    return mean, second - np.outer(mean, mean)


def ngram_unigram_moments(model, n: int, length: int | None = None,
                          method: str = "auto") -> UnigramMoments:
    r"""Exact mean and covariance of the token frequencies :math:`f` of one generation
    drawn from ``model``: ``n`` tokens in sequences of ``length`` (``None``: one
    sequence), each started from the model's start law.

    ``method``: ``"stationary"`` (the closed form; the model's start must be
    ``"stationary"``), ``"recursion"`` (any start law, ``O(L C^2 V)``), ``"auto"``.

    Raises
    ------
    TooLargeError
        The recursion above :data:`MAX_RECURSION_WORK`, or a chain too large for the
        dense theory.
    """
    n = check_positive_int(n, "n")
    L = check_length(length, n)
    if method not in ("auto", "stationary", "recursion"):
        raise ValueError(f"method must be 'auto', 'stationary' or 'recursion', got "
                         f"{method!r}")
    ch = context_chain(model)
    stationary = model.start == "stationary"
    if method == "auto":
        method = "stationary" if stationary else "recursion"
    if method == "stationary" and not stationary:
        raise ValueError("method='stationary' needs a model whose start is 'stationary'")
    V = model.vocab_size
    mean, cov = np.zeros(V), np.zeros((V, V))
    mu = model.start_law()
    for seg, count in segments(n, L).items():
        if method == "stationary":
            a, b = _segment_stationary(ch, seg)
        else:
            work = seg * ch.Q.shape[0] ** 2 * V
            if work > MAX_RECURSION_WORK:
                raise TooLargeError(
                    f"the recursion from the start law needs L C^2 V = {work:.3g} "
                    f"operations, above {MAX_RECURSION_WORK:.0e}; use shorter sequences, "
                    "a stationary start, or montecarlo.simulate")
            a, b = _segment_recursion(ch, seg, mu)
        mean += count * a
        cov += count * b
    return UnigramMoments(mean / n, cov / n**2, method)


@accepts_regime_spec
def ngram_unigram_drift(model, regime, m) -> Estimate | np.ndarray:
    r""":math:`E\sum_x (f^{(m)}_x - u^{(0)}_x)^2`: the squared distance of generation
    ``m``'s corpus token frequencies from the real stationary unigram law (the
    simulators' ``unigram_l1`` in the L2 norm).

    ``m = 1``: exact (:func:`ngram_unigram_moments`). ``m >= 2`` (one sequence per
    generation, ``model.length`` None, and ``Replace``): the effective-size law
    :math:`(1 - \sum u^2)(1 - (1 - \bar\tau/n)^m)`, first order in :math:`1/n`
    (``Estimate.exact`` False).
    """
    from ...ngram import NGram

    if not isinstance(model, NGram):
        from ...errors import WrongTypeError

        raise WrongTypeError(f"model must be an NGram, got {type(model).__name__}")
    ms = check_generations(m)
    if not isinstance(regime, Replace):
        raise UnsupportedRegimeError(
            f"the unigram drift of an n-gram model is derived under Replace, not "
            f"{regime!r}", supported=("Replace",))
    n = regime.n
    u0 = model.stationary()
    mom = ngram_unigram_moments(model, n, model.length)
    one = float(np.trace(mom.cov) + ((mom.mean - u0) ** 2).sum())
    if (ms >= 2).any():
        if model.length is not None or not regime.sampling.plain:
            raise UnsupportedRegimeError(
                "the unigram drift beyond generation 1 is derived for one sequence per "
                "generation (length=None) and plain sampling", supported=("Replace",))
        tau = ngram_autocorrelation_time(model).overall
        H0 = 1 - float((u0**2).sum())
        ne = n / tau

    def one_m(k: int):
        if k == 0:
            return Estimate(0.0, "generation 0", True)
        if k == 1:
            return Estimate(one, f"exact moments ({mom.method})", True)
        return Estimate(H0 * (1 - (1 - 1 / ne) ** k), "effective size n/tau", False)

    if ms.ndim == 0:
        return one_m(int(ms))
    return np.vectorize(lambda k: float(one_m(int(k))))(ms).astype(float)
