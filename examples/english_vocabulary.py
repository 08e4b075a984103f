"""How fast does a next-token model of real English forget?

The 50,000 most frequent English words (wordfreq), a corpus of n = 1,000,000 tokens per
generation, fully synthetic retraining (each generation fits the word frequencies of
the previous generation's samples). Run: python examples/english_vocabulary.py
"""

from modelcollapse import Categorical, Replace, theory

model = Categorical.from_wordfreq("en", top=50_000)
regime = Replace(n=1_000_000)

T = theory.expected_collapse_time(model, regime)  # exact, coalescent dual
print(f"E[generations until one word is left] = {T:,.0f}  (method={T.method})")

law = theory.collapse_time(model, Replace(n=10_000))  # whole law at a 10k-token corpus
print(f"n=10,000: median {law.median():,.0f}, 5%-95% [{law.quantile(0.05):,.0f}, "
      f"{law.quantile(0.95):,.0f}] generations")

f = theory.forgetting_time(count=10, n=1_000_000)
print(f"word seen 10 times: lost with probability {f.p_loss:.5f}; given loss, median "
      f"{f.median():.0f}, mean {f.mean():.1f} generations")

alive = theory.expected_surviving_tokens(model, regime, [1, 10, 100, 1000])
print("expected distinct words after 1, 10, 100, 1000 generations:",
      ", ".join(f"{a:,.0f}" for a in alive))

rare = model.labels[-1]
loss = theory.token_loss(model, regime, rare)
print(f"rarest kept word {rare!r} (p={model.p[-1]:.2e}): lost by generation 1 with "
      f"probability {loss.cdf(1):.3f}, by generation 10 with {loss.cdf(10):.3f}")
