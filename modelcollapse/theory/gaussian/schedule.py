r"""Growing sample sizes: the variance of a Gaussian refitted on a schedule of sizes
:math:`M_1, M_2, \dots` and whether it stays bounded."""

from __future__ import annotations

import math

import numpy as np

from ...models import check_positive_int, check_real
from ._common import _check_model, _den

__all__ = [
    "gaussian_schedule",
    "schedule_bounded",
]


# ---------------------------------------------------------------------- schedules
def gaussian_schedule(model, sizes) -> dict:
    r"""A 1-D Gaussian refitted under ``Replace`` with sample size ``sizes[i-1]`` at
    generation ``i`` (Shumailov et al.: growing sample sizes). Returns arrays over
    ``m = 0..len(sizes)`` of ``variance`` :math:`E\sigma_m^2`, ``std`` :math:`E\sigma_m`,
    ``mean_error`` :math:`E(\mu_m-\mu_0)^2 = \sum_{i\le m} E\sigma_{i-1}^2/M_i` and
    ``w2sq`` :math:`E W_2^2`. With the unbiased estimator ``mean_error`` is
    :math:`\sigma_0^2\sum_i 1/M_i`: :math:`E W_2^2` stays bounded iff
    :math:`\sum_i 1/M_i < \infty` (see :func:`schedule_bounded`).

    Parameters
    ----------
    model : Gaussian
        A 1-D real distribution; its ``estimator`` (``"unbiased"`` or ``"mle"``) sets the
        divisor of the fitted variance.
    sizes : sequence of int
        The sample size of each generation, ``sizes[i-1]`` at generation ``i``, each
        ``>= 2`` (integer-valued floats are accepted).

    Returns
    -------
    dict of str to numpy.ndarray
        Keys ``"variance"``, ``"std"``, ``"mean_error"`` and ``"w2sq"``, each a float64
        array of length ``len(sizes) + 1`` indexed by ``m`` (``m = 0``: the real model).

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``, or a size is not a whole number.
    ValueError
        ``model`` is not 1-D, or a size is below 2.

    References
    ----------
    .. [1] I. Shumailov, Z. Shumaylov, Y. Zhao, N. Papernot, R. Anderson, Y. Gal (2024). *AI models
       collapse when trained on recursively generated data.* Nature 631, 755–759. Preprint: *The
       Curse of Recursion: Training on Generated Data Makes Models Forget*, arXiv:2305.17493.
    .. [2] The theory chapter, docs/theory/gaussian.md ("Shumailov et al. Theorem 3.1").
    """
    model = _check_model(model)
    if model.dim != 1:
        raise ValueError("gaussian_schedule is implemented for a 1-D Gaussian")
    Ms = [check_positive_int(int(m) if float(m).is_integer() else m, "sizes[i]",
                              minimum=2) for m in sizes]
    v = [1.0]
    sd = [1.0]
    e = [0.0]
    for M in Ms:
        den = _den(model, M)
        e.append(e[-1] + v[-1] / M)
        v.append(v[-1] * (M - 1) / den)
        sd.append(sd[-1] * math.exp(0.5 * math.log(2.0 / den) + math.lgamma(M / 2)
                                    - math.lgamma((M - 1) / 2)))
    var0 = model.cov[0, 0]
    v, sd, e = np.array(v) * var0, np.array(sd) * model.std, np.array(e) * var0
    w2 = e + v - 2 * model.std * sd + var0
    return {"variance": v, "std": sd, "mean_error": e, "w2sq": w2}


def schedule_bounded(exponent: float) -> bool:
    r"""Whether :math:`E W_2^2` stays bounded (unbiased estimator) for sample sizes
    :math:`M_i \propto i^{p}`: iff :math:`\sum_i i^{-p}` converges, i.e. ``p > 1``
    (decided by sympy's convergence test).

    Parameters
    ----------
    exponent : float
        The exponent ``p`` of the growth of the sample sizes, finite.

    Returns
    -------
    bool
        ``True`` iff the series converges (``p > 1``).

    Raises
    ------
    WrongTypeError
        ``exponent`` is not a real number.
    ValueError
        ``exponent`` is not finite.

    References
    ----------
    .. [1] I. Shumailov, Z. Shumaylov, Y. Zhao, N. Papernot, R. Anderson, Y. Gal (2024). *AI models
       collapse when trained on recursively generated data.* Nature 631, 755–759. Preprint: *The
       Curse of Recursion: Training on Generated Data Makes Models Forget*, arXiv:2305.17493.
    .. [2] The theory chapter, docs/theory/gaussian.md ("Shumailov et al. Theorem 3.1").
    """
    import sympy as sp

    exponent = check_real(exponent, "exponent", finite=True)
    p = sp.nsimplify(exponent)
    i = sp.Symbol("i", positive=True, integer=True)
    return bool(sp.Sum(i ** (-p), (i, 1, sp.oo)).is_convergent())
