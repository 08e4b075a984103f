"""Distributions over generations (non-negative integers), possibly defective."""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "GenerationDistribution",
]

__all__ = ["GenerationDistribution"]


class GenerationDistribution:
    r"""Law of a random generation :math:`T \in \{0, 1, 2, \dots\} \cup \{\infty\}`.

    Stored as two arrays over ``m = 0..M``: ``cdf[m] = P(T <= m)`` and
    ``tail[m] = P(m < T < infinity)``, plus ``defect = P(T = infinity)`` (a token that is
    never lost, say). Keeping ``tail`` separate from ``cdf`` keeps both ends accurate:
    early probabilities far below ``1e-16`` and late tail masses both keep their relative
    precision. Beyond ``M`` the finite tail continues as a sum of geometric terms: exact
    ones (``tail_terms``, from the eigen-decomposition of a chain reduced to a few
    states) or, by default, one term :math:`\mathrm{tail}[M]\, r^{m-M}` with the chain's
    slowest decay rate ``r`` (for the coalescent, :math:`r = 1 - 1/n`), used when
    ``tail[M]`` is already below the requested tolerance.

    Parameters
    ----------
    cdf, tail : array_like
        Arrays of equal length ``M + 1``.
    defect : float
        :math:`P(T = \infty)`.
    ratio : float
        Geometric decay rate of the tail beyond ``M`` (``0 <= ratio < 1``).
    tail_terms : (coefs, rates), optional
        An exact continuation :math:`P(M+j < T < \infty) = \sum_a c_a r_a^j`, ``j >= 0``
        (a finite sum of geometric terms, as for a chain reduced to a few states);
        replaces the single geometric term built from ``ratio``.
    method : str
        How the law was computed (reported by ``repr``).
    exact : bool, default True
        False for an approximation.
    error : float, optional
        For an approximation: a measured band on the Wasserstein-1 distance to the
        exact law relative to its mean,
        :math:`\sum_m |\hat F(m) - F(m)| \le` ``error`` :math:`\cdot E[T]` (the mean
        absolute error of the quantile function, relative to the mean); ``None`` when
        exact or unmeasured.
    error_mean : float, optional
        Relative error band of :meth:`mean`.
    basis : str
        Where the bands come from (the committed comparison).

    References
    ----------
    .. [1] The theory chapter, docs/theory/coalescent.md ("The spectral tail").
    """

    def __init__(self, cdf, tail, *, defect: float = 0.0, ratio: float = 0.0,
                 tail_terms=None, method: str = "", exact: bool = True,
                 error: float | None = None, error_mean: float | None = None,
                 basis: str = ""):
        cdf = np.asarray(cdf, dtype=np.float64)
        tail = np.asarray(tail, dtype=np.float64)
        if cdf.shape != tail.shape or cdf.ndim != 1 or cdf.size == 0:
            raise ValueError("cdf and tail must be 1-D arrays of the same, positive length")
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f"ratio must be in [0, 1), got {ratio}")
        self._cdf = np.clip(cdf, 0.0, 1.0)
        self._tail = np.clip(tail, 0.0, 1.0)
        self._cdf.setflags(write=False)
        self._tail.setflags(write=False)
        self.defect = float(defect)
        self.ratio = float(ratio)
        self.method = method
        self.exact = bool(exact)
        self.error = None if error is None else float(error)
        self.error_mean = None if error_mean is None else float(error_mean)
        self.basis = basis
        if tail_terms is None:
            coefs, rates = np.array([self._tail[-1]]), np.array([self.ratio])
        else:
            coefs, rates = (np.asarray(x, dtype=np.float64) for x in tail_terms)
            if coefs.shape != rates.shape or np.any((rates < 0) | (rates >= 1)):
                raise ValueError("tail_terms must be (coefs, rates) with rates in [0, 1)")
        self._coefs, self._rates = coefs, rates

    # ----------------------------------------------------------------- helpers
    @property
    def horizon(self) -> int:
        """Last generation ``M`` computed explicitly."""
        return self._cdf.size - 1

    def _tail_at(self, m: np.ndarray) -> np.ndarray:
        M = self.horizon
        out = np.empty(m.shape)
        inside = m <= M
        out[inside] = self._tail[np.clip(m[inside], 0, M)]
        beyond = ~inside
        if np.any(beyond):
            out[beyond] = self._tail_beyond((m[beyond] - M).astype(np.float64))
        out[m < 0] = 1.0 - self.defect
        return out

    def _tail_beyond(self, j: np.ndarray) -> np.ndarray:
        """Continuation of the tail, ``j = m - M >= 0`` generations past the horizon."""
        if self._rates.size == 0:
            return np.zeros(j.shape)
        with np.errstate(divide="ignore"):
            logr = np.log(self._rates)
        terms = self._coefs[None, :] * np.exp(np.multiply.outer(j, logr))
        return np.maximum(terms.sum(axis=1), 0.0)

    def _cdf_at(self, m: np.ndarray) -> np.ndarray:
        M = self.horizon
        out = np.empty(m.shape)
        inside = m <= M
        out[inside] = self._cdf[np.clip(m[inside], 0, M)]
        beyond = ~inside
        if np.any(beyond):
            out[beyond] = 1.0 - self.defect - self._tail_at(m[beyond])
        out[m < 0] = 0.0
        return out

    @staticmethod
    def _as_int_array(m):
        arr = np.asarray(m)
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr)):
                raise ValueError("generations must be integers")
        elif arr.dtype.kind not in "iu":
            raise ValueError(f"generations must be integers, got {m!r}")
        return arr.astype(np.int64)

    @staticmethod
    def _ret(arr, like):
        return float(arr) if np.ndim(like) == 0 else arr

    # ----------------------------------------------------------------- public
    def cdf(self, m):
        """:math:`P(T \\le m)`."""
        mm = self._as_int_array(m)
        return self._ret(self._cdf_at(np.atleast_1d(mm)).reshape(mm.shape), m)

    def sf(self, m):
        """:math:`P(T > m)` (includes the defect :math:`P(T=\\infty)`)."""
        mm = self._as_int_array(m)
        return self._ret((self._tail_at(np.atleast_1d(mm)) + self.defect).reshape(mm.shape), m)

    def pmf(self, m):
        """:math:`P(T = m)`, computed from whichever of cdf and tail is more accurate."""
        mm = self._as_int_array(m)
        m1 = np.atleast_1d(mm)
        c1 = self._cdf_at(m1)
        c0 = self._cdf_at(m1 - 1)
        t1 = self._tail_at(m1)
        t0 = self._tail_at(m1 - 1)
        use_cdf = c1 < 0.5 * (1.0 - self.defect)
        out = np.where(use_cdf, c1 - c0, t0 - t1)
        out = np.clip(out, 0.0, 1.0)
        return self._ret(out.reshape(mm.shape), m)

    def mean(self) -> float:
        r""":math:`E[T] = \sum_{m\ge0} P(T>m)`; infinite when the law is defective."""
        if self.defect > 0:
            return math.inf
        return self._moment_sums()[0]

    def var(self) -> float:
        r""":math:`\mathrm{Var}\,T` from :math:`E[T^2] = \sum_{m\ge0}(2m+1)P(T>m)`."""
        if self.defect > 0:
            return math.inf
        s1, s2 = self._moment_sums()
        return s2 - s1 * s1

    def std(self) -> float:
        return math.sqrt(self.var())

    def _moment_sums(self):
        M = self.horizon
        t = self._tail
        m = np.arange(M + 1, dtype=np.float64)
        c, r = self._coefs, self._rates
        # continuation: sum_{j>=1} c r^j and sum_{j>=1} (2(M+j)+1) c r^j, term by term
        g0 = math.fsum(c * r / (1 - r))
        g1 = math.fsum(c * ((2 * M + 1) * r / (1 - r) + 2 * r / (1 - r) ** 2))
        s1 = math.fsum(t) + g0
        s2 = math.fsum((2 * m + 1) * t) + g1
        return s1, s2

    def quantile(self, q):
        """Smallest ``m`` with :math:`P(T \\le m) \\ge q` (``inf`` if never reached)."""
        qa = np.asarray(q, dtype=np.float64)
        if np.any(~np.isfinite(qa)) or np.any((qa < 0) | (qa > 1)):
            raise ValueError(f"q must lie in [0, 1], got {q!r}")
        out = np.array([self._quantile1(float(x)) for x in np.atleast_1d(qa)])
        if np.ndim(q) == 0:
            return float(out[0])
        return out.reshape(qa.shape)

    def _quantile1(self, q: float) -> float:
        if q > 1.0 - self.defect:
            return math.inf
        # prefer the tail array when q is close to the total mass
        need_tail = (1.0 - self.defect) - q  # P(m < T < inf) must be <= need_tail
        if q <= 0.5 * (1.0 - self.defect):
            idx = int(np.searchsorted(self._cdf, q, side="left"))
        else:
            rev = self._tail[::-1]
            # tail is non-increasing: first m with tail[m] <= need_tail
            k = int(np.searchsorted(rev, need_tail, side="right"))
            idx = self._tail.size - k
        if idx <= self.horizon:
            return float(idx)
        M = self.horizon
        if need_tail <= 0:
            return math.inf
        # the continuation is non-increasing: exponential then binary search on j
        hi = 1
        while self._tail_beyond(np.array([float(hi)]))[0] > need_tail:
            hi *= 2
            if hi > 2**62:
                return math.inf
        lo = hi // 2
        while lo < hi:
            mid = (lo + hi) // 2
            if self._tail_beyond(np.array([float(mid)]))[0] <= need_tail:
                hi = mid
            else:
                lo = mid + 1
        return float(M + max(hi, 1))

    def median(self) -> float:
        return self.quantile(0.5)

    def conditional(self) -> GenerationDistribution:
        """The law of ``T`` given ``T < infinity``."""
        mass = 1.0 - self.defect
        if mass <= 0:
            raise ValueError("the event never happens: cannot condition on it")
        return GenerationDistribution(
            self._cdf / mass, self._tail / mass, defect=0.0, ratio=self.ratio,
            tail_terms=(self._coefs / mass, self._rates), method=self.method,
            exact=self.exact,
        )

    def plot(self, ax=None, *, kind: str = "pmf", upto: int | None = None,
             label: str | None = None, **kwargs):
        """Plot the law against the generation ``m`` and return the matplotlib ``Axes``.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure (``matplotlib.pyplot``) when omitted.
        kind : {"pmf", "cdf", "sf"}
            :math:`P(T = m)`, :math:`P(T \\le m)` or :math:`P(T > m)` (log scale).
        upto : int, optional
            Last generation shown; by default where :math:`P(T \\le m)` reaches 99.9% of
            the finite mass. Beyond 2,000 generations the curve is drawn through 2,000
            evenly spaced generations.
        label : str, optional
            Legend label (default: the method).
        **kwargs
            Passed to ``Axes.plot``.
        """
        if kind not in ("pmf", "cdf", "sf"):
            raise ValueError(f"kind must be 'pmf', 'cdf' or 'sf', got {kind!r}")
        if upto is None:
            law = self.conditional() if 0.0 < self.defect < 1.0 else self
            q = law.quantile(0.999) if self.defect < 1.0 else 0.0
            upto = int(max(q, 1.0)) if math.isfinite(q) else self.horizon
        elif isinstance(upto, bool) or not isinstance(upto, (int, np.integer)) or upto < 0:
            raise ValueError(f"upto must be a non-negative integer, got {upto!r}")
        upto = int(upto)
        m = (np.arange(upto + 1) if upto <= 2000 else
             np.unique(np.linspace(0, upto, 2001).astype(np.int64)))
        y = getattr(self, kind)(m)
        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.figure().add_subplot()
        kwargs.setdefault("drawstyle", "steps-mid" if kind == "pmf" else "steps-post")
        ax.plot(m, y, label=label if label is not None else (self.method or None), **kwargs)
        ax.set_xlabel("generation m")
        ax.set_ylabel({"pmf": "P(T = m)", "cdf": "P(T <= m)", "sf": "P(T > m)"}[kind])
        if kind == "sf" and np.any(y > 0):
            ax.set_yscale("log")
        return ax

    def __repr__(self) -> str:
        parts = [f"horizon={self.horizon}"]
        if self.defect:
            parts.append(f"P(never)={self.defect:.6g}")
        else:
            parts.append(f"mean={self.mean():.6g}")
        if self.method:
            parts.append(f"method={self.method!r}")
        if not self.exact:
            parts.append("exact=False")
        if self.error is not None:
            parts.append(f"error={self.error:.2g}")
        return f"GenerationDistribution({', '.join(parts)})"
