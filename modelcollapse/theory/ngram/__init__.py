r"""The n-gram (order-``k`` Markov) language model trained on its own autoregressive text:
many contexts, each refitted to as many tokens as the model's own text visits it.

========================  ============================================================
What                      Module
========================  ============================================================
the context chain         :mod:`.chain` (``Q``, ``pi``, the fundamental matrix ``Z``,
                          mean first passage times)
unigram drift, tau        :mod:`.unigram` (``ngram_autocorrelation_time``,
                          ``ngram_unigram_moments``, ``ngram_unigram_drift``)
the refit's bias          :mod:`.bias` (``ngram_transition_bias``,
                          ``ngram_row_expectations``: exact, small models)
effective sizes           :mod:`.effective` (``ngram_context_sizes``,
                          ``ngram_drift_factor``, ``ngram_homozygosity``: every
                          regime, per context)
collapse to repetition    :mod:`.repetition` (``ngram_repetition_time``: exact, tiny
                          models)
========================  ============================================================
"""

from .bias import RowExpectations, ngram_row_expectations, ngram_transition_bias
from .chain import ContextChain, context_chain
from .effective import (
    DriftFactor,
    ngram_context_sizes,
    ngram_drift_factor,
    ngram_homozygosity,
)
from .repetition import ngram_repetition_time
from .unigram import (
    AutocorrelationTime,
    UnigramMoments,
    ngram_autocorrelation_time,
    ngram_unigram_drift,
    ngram_unigram_moments,
)

__all__ = ["AutocorrelationTime", "ContextChain", "DriftFactor", "RowExpectations",
           "UnigramMoments", "context_chain", "ngram_autocorrelation_time",
           "ngram_context_sizes", "ngram_drift_factor", "ngram_homozygosity",
           "ngram_repetition_time", "ngram_row_expectations",
           "ngram_transition_bias", "ngram_unigram_drift", "ngram_unigram_moments"]
