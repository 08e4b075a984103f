r"""The context chain of an n-gram model as dense matrices: the pieces every n-gram result
is built from.

An order-``k`` model on ``V`` tokens moves between the :math:`C = V^k` contexts with
:math:`Q[c, c'] = P_{cx}` for :math:`c' = (c_2, \dots, c_k, x)`; its stationary law is
:math:`\pi`, and :math:`A = Q - \mathbf 1\pi` satisfies :math:`A^j = Q^j - \mathbf 1 \pi`
for :math:`j \ge 1`. The fundamental matrix :math:`Z = (I - A)^{-1} = (I - Q +
\mathbf 1\pi)^{-1}` sums the centred powers, :math:`Z = I + \sum_{j \ge 1}(Q^j - \mathbf
1\pi)`, and the weighted sums of a segment of ``L`` steps have the closed form

.. math:: W_L = \sum_{j=0}^{L-1} (L - j) A^j = Z^2\,\bigl(L (I - A) - A (I - A^L)\bigr),

the matrix version of :math:`\sum_{j<L}(L-j)x^j = (L(1-x) - x(1-x^L))/(1-x)^2`.
Mean first passage times are :math:`m_{ji} = (Z_{ii} - Z_{ji})/\pi_i` (``j != i``) and
:math:`m_{ii} = 1/\pi_i` (return).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import TooLargeError, WrongTypeError
from ...models import check_positive_int

__all__ = ["MAX_DENSE_CONTEXTS", "ContextChain", "context_chain"]

#: Largest number of contexts the dense n-gram theory inverts (a C x C matrix).
MAX_DENSE_CONTEXTS = 4096


@dataclass(frozen=True, eq=False)
class ContextChain:
    """Dense matrices of a model's context chain (see the module's formulas).

    Attributes
    ----------
    Q : (C, C) transition matrix of the contexts
    pi : (C,) stationary law
    Z : (C, C) fundamental matrix
    G : (C, V) ``G[c, x] = 1`` when context ``c`` ends with token ``x``
    table : (C, V) the model's rows
    """

    Q: np.ndarray
    pi: np.ndarray
    Z: np.ndarray
    G: np.ndarray
    table: np.ndarray

    @property
    def A(self) -> np.ndarray:
        return self.Q - self.pi[None, :]

    @property
    def unigram(self) -> np.ndarray:
        """The stationary token law :math:`u = \\pi G` (the last token of a context)."""
        return self.pi @ self.G

    def weighted_powers(self, L: int) -> np.ndarray:
        """:math:`W_L = \\sum_{j=0}^{L-1}(L-j)A^j` by the closed form."""
        A = self.A
        eye = np.eye(A.shape[0])
        AL = np.linalg.matrix_power(A, L)
        return self.Z @ self.Z @ (L * (eye - A) - A @ (eye - AL))

    def first_passage(self) -> np.ndarray:
        """Mean first passage times :math:`m_{ji}` (row ``j``: from; column ``i``: to),
        the diagonal being the mean return times :math:`1/\\pi_i`."""
        d = np.diag(self.Z)
        with np.errstate(divide="ignore"):
            M = (d[None, :] - self.Z) / self.pi[None, :]
            M[np.diag_indices_from(M)] = 1.0 / self.pi
        return M


def context_chain(model) -> ContextChain:
    """The dense :class:`ContextChain` of an :class:`~modelcollapse.ngram.NGram`.

    Raises
    ------
    WrongTypeError
        ``model`` is not an NGram.
    TooLargeError
        More than :data:`MAX_DENSE_CONTEXTS` contexts, before any allocation.
    ValueError
        A chain without a unique stationary law (reducible): ``I - Q + 1 pi`` singular.
    """
    from ...ngram import NGram

    if not isinstance(model, NGram):
        raise WrongTypeError(f"model must be an NGram, got {type(model).__name__}")
    C, V = model.contexts, model.vocab_size
    if C > MAX_DENSE_CONTEXTS:
        raise TooLargeError(
            f"the n-gram theory inverts a dense C x C matrix; this model has C = V^k = "
            f"{C} contexts, above {MAX_DENSE_CONTEXTS}: use a smaller order or vocabulary, "
            "or montecarlo.simulate")
    Q = model.context_transitions().toarray()
    pi = model.stationary_contexts()
    M = np.eye(C) - Q + pi[None, :]
    try:
        Z = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        raise ValueError("the context chain has no unique stationary law (it is "
                         "reducible); the n-gram theory needs an irreducible chain") from None
    if not np.allclose(Z @ M, np.eye(C), atol=1e-8) or np.abs(pi @ Q - pi).sum() > 1e-9:
        raise ValueError("the context chain has no unique stationary law (it is "
                         "reducible); the n-gram theory needs an irreducible chain")
    G = np.zeros((C, V))
    G[np.arange(C), np.arange(C) % V] = 1.0
    return ContextChain(Q, pi, Z, G, model.table)


def segments(n: int, L: int) -> dict[int, int]:
    """``{length: number of sequences}`` of a corpus of ``n`` tokens in sequences of
    ``L`` (the last one shorter)."""
    out = {L: n // L} if n // L else {}
    if n % L:
        out[n % L] = out.get(n % L, 0) + 1
    return out


def check_length(length, n: int) -> int:
    """Tokens per sequence: ``length`` (a positive int), or ``n`` for ``None``."""
    if length is None:
        return n
    return check_positive_int(length, "length")
