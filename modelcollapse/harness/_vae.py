r"""The VAE chain (Shumailov et al. 2024, the variational autoencoder of their Fig. 2's
second system): a VAE trained on scikit-learn's handwritten digits (1,797 images of
8 x 8 pixels, shipped with the package: no download), then retrained generation after
generation on images decoded from prior samples of the previous generation.

Model: an encoder MLP (64 -> hidden -> hidden -> 2 x latent: mean and log-variance of a
diagonal Gaussian), a decoder MLP (latent -> hidden -> hidden -> 64 logits), pixels
in [0, 1] scored by the Bernoulli cross-entropy, plus the KL divergence to the standard
normal prior (the ELBO); Adam, float32. Generation ``m >= 1`` is trained on ``N``
images :math:`\sigma(\mathrm{dec}(z))`, :math:`z \sim N(0, I)`, of generation ``m - 1``
(``Replace(N)``), or on a fixed block of real digits and such images (``Mix``, same real
images every generation).

Per generation, on ``eval_images`` images decoded from the *same* latent draws (common
random numbers, so differences between generations are the models'): the mean pixel
variance, the mean pairwise distance of ``pairs`` images (diversity), and the class
proportions under a logistic-regression classifier trained once on real digits, with
their entropy and homozygosity :math:`\sum_c q_c^2`. The class proportions of the
images a generation is trained on are the empirical frequencies of ``N`` draws from the
previous generation's, so a VAE that reproduced its training set's class mix would move
them as the neutral categorical chain ``Replace(N)`` started from generation 0's:
``theory_homozygosity`` is that chain's exact :math:`E\sum_c (q_c^{(m)})^2`
(:func:`modelcollapse.theory.homozygosity`), beside the measured one; under ``Mix`` the
same chain with the fixed real block (:func:`fixed_block_homozygosity`).
"""

from __future__ import annotations

import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..errors import UnsupportedRegimeError, WrongTypeError
from ..regimes import Accumulate, Mix, Regime, Replace, as_regime, refuse_curation
from ._loop import _save_model
from ._vae_config import VAE_CONFIGS, VAEConfig

PIXELS = 64


def load_digits_data() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as ``(images, labels)``: float32 pixels in [0, 1]
    (grey levels 0..16 divided by 16), shape ``(1797, 64)``."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)


class VAE(eqx.Module):
    """Encoder and decoder MLPs of a VAE on 64-pixel images."""

    enc: eqx.nn.MLP
    dec: eqx.nn.MLP
    latent: int = eqx.field(static=True)

    def __init__(self, config: VAEConfig, key):
        k1, k2 = jax.random.split(key)
        self.enc = eqx.nn.MLP(PIXELS, 2 * config.latent, config.hidden, 2,
                              activation=jax.nn.relu, key=k1)
        self.dec = eqx.nn.MLP(config.latent, PIXELS, config.hidden, 2,
                              activation=jax.nn.relu, key=k2)
        self.latent = config.latent

    def decode(self, z):
        """Pixel means :math:`\\sigma(\\mathrm{dec}(z))` of a latent vector."""
        return jax.nn.sigmoid(self.dec(z))


def _elbo_loss(model, x, key):
    """Negative ELBO of one image: Bernoulli cross-entropy of the pixels plus the KL
    divergence of the encoder's Gaussian to the standard normal prior."""
    h = model.enc(x)
    mu, logvar = h[:model.latent], h[model.latent:]
    z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(key, mu.shape)
    rec = optax.sigmoid_binary_cross_entropy(model.dec(z), x).sum()
    kl = 0.5 * jnp.sum(jnp.exp(logvar) + mu**2 - 1.0 - logvar)
    return rec + kl


def _step(opt):
    @eqx.filter_jit
    def step(model, opt_state, xb, key):
        def loss_fn(m):
            keys = jax.random.split(key, xb.shape[0])
            return jax.vmap(_elbo_loss, in_axes=(None, 0, 0))(m, xb, keys).mean()

        loss, grads = eqx.filter_value_and_grad(loss_fn)(model)
        updates, opt_state = opt.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, loss

    return step


def train_vae(images: np.ndarray, config: VAEConfig, key, init_key) -> tuple[VAE, dict]:
    """A VAE initialised from ``init_key`` and trained for ``config.epochs`` epochs of
    mini-batches (``N // batch`` per epoch, reshuffled each epoch with ``key``)."""
    model = VAE(config, init_key)
    opt = optax.adam(config.lr)
    opt_state = opt.init(eqx.filter(model, eqx.is_array))
    step = _step(opt)
    data = jnp.asarray(images, dtype=jnp.float32)
    N = data.shape[0]
    B = min(config.batch, N)
    nb = N // B
    t0 = time.perf_counter()
    losses = []
    for epoch in range(config.epochs):
        kp, kb = jax.random.split(jax.random.fold_in(key, epoch))
        perm = jax.random.permutation(kp, N)
        for b in range(nb):
            xb = data[perm[b * B:(b + 1) * B]]
            model, opt_state, loss = step(model, opt_state, xb, jax.random.fold_in(kb, b))
            losses.append(loss)
    losses = np.asarray(jax.block_until_ready(jnp.stack(losses)))
    tail = losses[-max(1, nb):]
    return model, {"train_loss": float(tail.mean()), "train_loss_first": float(losses[0]),
                   "train_seconds": time.perf_counter() - t0}


def decode_prior(model: VAE, z: np.ndarray) -> np.ndarray:
    """Images decoded from latent vectors ``z`` (rows), float32 in [0, 1]."""
    return np.asarray(jax.vmap(model.decode)(jnp.asarray(z, dtype=jnp.float32)))


def fit_classifier(seed: int = 0):
    """The fixed digit classifier: multinomial logistic regression on 80% of the real
    digits (``random_state=seed``), and its accuracy on the other 20%."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    X, y = load_digits_data()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=seed,
                                          stratify=y)
    clf = LogisticRegression(max_iter=2000, random_state=seed).fit(Xtr, ytr)
    return clf, float(clf.score(Xte, yte))


def measure(images: np.ndarray, clf, pairs: int) -> dict:
    """Pixel variance, mean pairwise distance of the first ``pairs`` images, and the
    class proportions under ``clf`` with their entropy (nats) and homozygosity."""
    x = np.asarray(images, dtype=np.float64)
    sub = x[:pairs]
    sq = np.sum(sub**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * sub @ sub.T, 0.0)
    iu = np.triu_indices(len(sub), 1)
    q = np.bincount(clf.predict(x.astype(np.float32)), minlength=10) / len(x)
    nz = q[q > 0]
    return {"pixel_variance": float(x.var(axis=0).mean()),
            "pairwise_distance": float(np.sqrt(d2[iu]).mean()),
            "class_proportions": q.tolist(),
            "class_entropy": float(-(nz * np.log(nz)).sum()) + 0.0,  # no -0.0
            "class_homozygosity": float(np.sum(q * q))}


def fixed_block_homozygosity(q0, q_real, real: int, synthetic: int, m: int) -> float:
    r""":math:`E\sum_c (q_c^{(m)})^2` of the class mix when every generation is trained on a
    fixed block of ``real`` images with class mix ``q_real`` and ``synthetic`` draws from
    the previous generation's mix, generation 0's mix being ``q0`` (a VAE that reproduced
    its training set's class mix). With :math:`a = r/(r+s)`, :math:`b = s/(r+s)` and
    :math:`q^{(m)} = a\,q_{\text{real}} + b\,X/s`, :math:`X \sim
    \mathrm{Mult}(s, q^{(m-1)})`:

    .. math:: \mu_m = a\,q_{\text{real}} + b\,\mu_{m-1},\quad
              S_m = a^2\|q_{\text{real}}\|^2 + 2ab\,q_{\text{real}}\cdot\mu_{m-1}
                    + b^2\big(S_{m-1}(1 - 1/s) + 1/s\big),

    from :math:`E X_c^2 = s q_c(1-q_c) + s^2 q_c^2`. ``real = 0`` is the neutral chain
    ``Replace(s)``: :math:`S_m = 1 - (1 - S_0)(1 - 1/s)^m`."""
    q0 = np.asarray(q0, dtype=np.float64)
    qr = np.asarray(q_real, dtype=np.float64)
    a = real / (real + synthetic)
    b = 1.0 - a
    mu, S = q0.copy(), float(q0 @ q0)
    for _ in range(m):
        S = a * a * float(qr @ qr) + 2 * a * b * float(qr @ mu) + \
            b * b * (S * (1 - 1 / synthetic) + 1 / synthetic)
        mu = a * qr + b * mu
    return S


def accumulate_homozygosity(q0, q_real, real: int, n: int, m: int) -> float:
    r""":math:`E\sum_c (q_c^{(m)})^2` of the class mix when generation ``m >= 1`` is
    trained on a fixed block of ``real`` images with class mix ``q_real`` and ``n`` draws
    from *each* earlier generation's mix (``Accumulate``: the pool grows by ``n`` a
    generation), generation 0's mix being ``q0`` (a VAE that reproduced its training
    set's class mix). With the pool's class counts :math:`T_m` (``N_m = r + m n``
    images) and :math:`q^{(m)} = T_m/N_m`, :math:`T_{m+1} = T_m + X_m`,
    :math:`X_m \sim \mathrm{Mult}(n, q^{(m)})`, and
    :math:`E\|X\|^2 = n + n(n-1)\|q\|^2`:

    .. math:: E\|T_1\|^2 = r^2\|q_{\text{real}}\|^2 + 2rn\,q_{\text{real}}\cdot q_0
                          + n + n(n-1)\|q_0\|^2,\qquad
              E\|T_{m+1}\|^2 = E\|T_m\|^2\Big(1 + \frac{2n}{N_m}
                              + \frac{n(n-1)}{N_m^2}\Big) + n,

    and :math:`S_m = E\|T_m\|^2/N_m^2`."""
    q0 = np.asarray(q0, dtype=np.float64)
    qr = np.asarray(q_real, dtype=np.float64)
    if m == 0:
        return float(q0 @ q0)
    T2 = real * real * float(qr @ qr) + 2 * real * n * float(qr @ q0) + n + \
        n * (n - 1) * float(q0 @ q0)
    for k in range(1, m):
        N = real + k * n
        T2 = T2 * (1 + 2 * n / N + n * (n - 1) / N**2) + n
    return T2 / (real + m * n) ** 2


def _plan(regime, config: VAEConfig) -> tuple[int, int, bool]:
    """``(real, synthetic, accumulate)``: real images in every corpus, synthetic images
    drawn from each generation, and whether the synthetic blocks accumulate."""
    if isinstance(regime, str) and regime == "replace":
        return 0, config.images, False
    if not isinstance(regime, (Regime, str)):
        raise WrongTypeError(f"regime must be a Regime, its spec string or 'replace', got "
                             f"{type(regime).__name__}")
    regime = as_regime(regime)
    refuse_curation(regime, "the VAE chain (it trains on every generated image)")
    if not regime.sampling.plain:
        raise UnsupportedRegimeError("the VAE chain samples its prior plainly: no sampling "
                                     "policy", ("Replace", "Mix"))
    accumulate = isinstance(regime, Accumulate)
    if isinstance(regime, Replace):
        real, synth = 0, regime.n
    elif isinstance(regime, Mix) and not regime.fresh:
        real, synth = regime.real, regime.synthetic
    elif accumulate:  # n real digits, then n images of every generation kept
        real, synth = regime.n, regime.n
    else:
        raise UnsupportedRegimeError(f"the VAE chain runs Replace(n), Mix(real, "
                                     f"synthetic) (same real images) and Accumulate(n), "
                                     f"not {regime!r}", ("Replace", "Mix", "Accumulate"))
    if real > 1797 or synth < 1:
        raise ValueError(f"{regime!r}: the real block is at most 1797 digits and the "
                         "synthetic block at least one image")
    return real, synth, accumulate


#: Images of each generation kept in the results for the sample grids (decoded from the
#: first latent draws of the evaluation set).
GRID_IMAGES = 16


def run_vae_chain(config="tiny", regime="replace", generations: int = 3, *,
                  seed: int = 0, progress: bool = False, out_dir=None) -> dict:
    """Train generation 0 on ``config.images`` real digits, then ``generations`` more,
    each on images decoded from the previous generation's prior (and, under ``Mix``, a
    fixed block of real digits; under ``Accumulate(n)``, ``n`` real digits and the ``n``
    images drawn from *every* earlier generation). Returns a dict with the
    configuration, the regime, the classifier's held-out accuracy, and one record per
    generation (training loss and time, :func:`measure`'s statistics, the neutral
    chain's ``theory_homozygosity``).

    Every generation starts from the same initialisation and mini-batch keys (common
    random numbers) and is measured on images decoded from the same latent draws.

    ``out_dir``: the results (``vae.json``) and each generation's model
    (``vae_gen<m>.eqx``) are written there whole after every generation; a run into a
    folder that holds an earlier run of the same configuration, regime and seed
    continues after its last finished generation, with the same numbers as an
    uninterrupted run. Every argument and the folder are checked before any work."""
    import json

    from .. import theory
    from ..files import check_output_path, write_text
    from ..models import Categorical

    if isinstance(config, str):
        if config not in VAE_CONFIGS:
            raise ValueError(f"unknown VAE configuration {config!r}; choose from "
                             f"{', '.join(VAE_CONFIGS)}")
        config = VAE_CONFIGS[config]
    if not isinstance(config, VAEConfig):
        raise WrongTypeError(f"config must be a VAEConfig or a name, got {config!r}")
    if isinstance(generations, bool) or not isinstance(generations, int) or generations < 0:
        raise ValueError(f"generations must be a non-negative integer, got {generations!r}")
    real_n, synth_n, accumulate = _plan(regime, config)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    spec = regime if isinstance(regime, str) else as_regime(regime).spec
    head = {"config": config.to_dict(), "regime": spec, "seed": seed,
            "real_per_generation": real_n, "synthetic_per_generation": synth_n}
    records, out = [], None
    if out_dir is not None:
        out = check_output_path(out_dir, "out_dir", folder=True)
        results = out / "vae.json"
        if results.exists():
            with open(results, encoding="utf-8") as f:
                prior = json.load(f)
            if {k: prior.get(k) for k in head} != head:
                raise ValueError(f"out_dir {str(out)!r} holds a VAE run of another "
                                 "configuration, regime or seed; use another folder")
            records = prior["records"][:generations + 1]
    X, _ = load_digits_data()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    real0 = X[order[:config.images]]
    real_block = X[order[:real_n]]
    clf, acc = fit_classifier(seed)
    q_real = np.bincount(clf.predict(real_block), minlength=10) / real_n if real_n \
        else None
    root = jax.random.PRNGKey(seed)
    k_init, k_batches, k_eval, k_data = jax.random.split(root, 4)
    z_eval = np.asarray(jax.random.normal(k_eval, (config.eval_images, config.latent)))
    result = {**head, "classifier_accuracy": acc, "max_entropy": math.log(10),
              "records": records}  # records grows in place, one generation at a time
    q0, model = None, None

    def synthetic(m, parent):
        """The images generation ``m`` gets from its parent (generation ``m - 1``)."""
        z = np.asarray(jax.random.normal(jax.random.fold_in(k_data, m),
                                         (synth_n, config.latent)))
        return decode_prior(parent, z)

    pool = []  # Accumulate: the synthetic blocks of generations 1..m-1, kept
    if records:  # resume after the last finished generation
        q0 = np.asarray(records[0]["class_proportions"])
        last = records[-1]["generation"]

        def load(j):
            return eqx.tree_deserialise_leaves(out / f"vae_gen{j}.eqx", VAE(config, k_init))

        model = load(last)
        if accumulate:  # the same blocks again: the same models and latent draws
            pool = [synthetic(j, load(j - 1)) for j in range(1, last + 1)]
    for m in range(len(records), generations + 1):
        if m == 0:
            data = real0
        else:
            block = synthetic(m, model)
            if accumulate:
                pool.append(block)
                data = np.concatenate([real_block, *pool])
            else:
                data = np.concatenate([real_block, block]) if real_n else block
        model, info = train_vae(data, config, k_batches, k_init)
        decoded = decode_prior(model, z_eval)
        stats = measure(decoded, clf, config.pairs)
        stats["grid"] = np.round(decoded[:GRID_IMAGES], 4).tolist()
        if m == 0:
            q0 = np.asarray(stats["class_proportions"])
        if real_n == 0:  # the toolkit's neutral chain
            S = theory.homozygosity(Categorical(q0), Replace(synth_n), m)
            stats["theory_homozygosity"] = float(S)
        elif accumulate:  # the same chain with the real block and every block kept
            stats["theory_homozygosity"] = accumulate_homozygosity(
                q0, q_real, real_n, synth_n, m)
        else:  # the same chain with the fixed real block's class mix
            stats["theory_homozygosity"] = fixed_block_homozygosity(
                q0, q_real, real_n, synth_n, m)
        records.append({"generation": m, **info, **stats})
        if out is not None:  # the model first: a results file never names a missing one
            out.mkdir(parents=True, exist_ok=True)
            _save_model(out / f"vae_gen{m}.eqx", model)
            write_text(out / "vae.json", json.dumps(result, indent=1))
        if progress:
            print(f"generation {m}: loss {info['train_loss']:.2f}, pixel variance "
                  f"{stats['pixel_variance']:.4f}, pairwise distance "
                  f"{stats['pairwise_distance']:.3f}, class entropy "
                  f"{stats['class_entropy']:.3f}", flush=True)
    return result
