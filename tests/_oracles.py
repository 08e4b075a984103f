"""Reference implementations written from the definitions, shared by the tests."""

from __future__ import annotations

from fractions import Fraction


def policy_oracle(p, T=1, top_k=None, top_p=None):
    """The sampling policy by its definition: :math:`p^{1/T}/\\sum p^{1/T}`, then the
    ``top_k`` most likely tokens, then the smallest most likely set of mass >= ``top_p``
    (ties to the lower index), each renormalised. Exact in ``Fraction`` arithmetic when
    ``p`` is rational and ``1/T`` an integer; floats otherwise."""
    p = list(p)
    inv = 1 / Fraction(T).limit_denominator(10**6)
    if inv == 1:
        q = p
    elif inv.denominator == 1:
        q = [x ** int(inv) for x in p]
    else:
        q = [float(x) ** float(inv) if x > 0 else 0.0 for x in p]
    q = [x / sum(q) for x in q]
    order = sorted(range(len(q)), key=lambda i: (-q[i], i))
    keep = [i for i in order if q[i] > 0]
    if top_k is not None:
        keep = keep[:top_k]
    if top_p is not None:
        tot = sum(q[i] for i in keep)
        for k in range(1, len(keep) + 1):  # smallest set of mass >= top_p
            if sum(q[i] for i in keep[:k]) / tot >= top_p:
                keep = keep[:k]
                break
    tot = sum(q[i] for i in keep)
    return tuple(q[i] / tot if i in keep else 0 * q[i] for i in range(len(q)))
