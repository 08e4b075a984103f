import os

import pytest
from hypothesis import HealthCheck, settings

# Deterministic property tests: the same examples on every run and machine.
settings.register_profile(
    "deterministic",
    derandomize=True,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("thorough", derandomize=False, deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


def _jax_compilation_cache():
    """JAX's persistent compilation cache for the test session, outside the virtual
    environment (``MODELCOLLAPSE_JAX_CACHE`` overrides; the library never sets it), and
    XLA's cheaper CPU code generation: the tests run many small programs once each, so
    compiling them costs more than running them (about 40% less compile time; the
    benchmarks keep XLA's defaults)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_optimization_level" not in flags:
        os.environ["XLA_FLAGS"] = (flags + " --xla_backend_optimization_level=0"
                                   " --xla_llvm_disable_expensive_passes=true").strip()
    try:
        import jax
    except ImportError:
        return
    path = os.environ.get("MODELCOLLAPSE_JAX_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache",
                                       "modelcollapse-tests", "jax"))
    os.makedirs(path, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


_jax_compilation_cache()


def _numba_warmups():
    """One tiny simulation per compiled Numba kernel family (generic loop and fast paths
    compile together): calling it compiles the family, or loads it from Numba's cache."""
    import numpy as np

    from modelcollapse import montecarlo as mc
    from modelcollapse.models import Categorical, Gaussian, GaussianMixture, LinearRegression
    from modelcollapse.regimes import Replace

    def run(model, regime):
        return lambda: mc.simulate(model, regime, 2, replicates=1, seed=0, backend="numba",
                                   progress=False)

    return {
        "categorical": run(Categorical([0.5, 0.5]), Replace(4)),
        "gaussian": run(Gaussian(0.0, 1.0), Replace(4)),
        "mixture": run(GaussianMixture([0.5, 0.5], [[0.0], [2.0]], [1.0, 1.0], max_iter=2),
                       Replace(8)),
        "regression": run(LinearRegression(np.ones(2)), Replace(4)),
    }


@pytest.fixture(scope="session", autouse=True)
def _numba_compiled_once(tmp_path_factory):
    """Under pytest-xdist, compile each Numba kernel family once per test run, not once
    per worker: the workers share the families out through file locks (a worker takes
    a free family, compiles it into Numba's on-disk cache and releases it; a family
    another worker holds is loaded from the cache once that worker is done). Without
    this, every worker compiles every family (about 60 s of CPU each on a cold cache)."""
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if count < 2:
        return
    try:
        import fcntl
    except ImportError:  # no POSIX locks: every worker compiles for itself
        return
    locks = tmp_path_factory.getbasetemp().parent  # one per run, shared by the workers
    warm = _numba_warmups()
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").lstrip("gw") or 0)
    names = list(warm)
    start = index * len(names) // count % len(names)  # the workers start apart
    pending = names[start:] + names[:start]

    def take(name, wait):
        with open(os.path.join(locks, name), "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                return False
            try:
                warm[name]()
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return True

    while pending:
        free = [name for name in pending if take(name, wait=False)]
        if not free:  # the rest are compiling elsewhere: wait for one, load it
            take(pending[0], wait=True)
            free = pending[:1]
        pending = [name for name in pending if name not in free]
