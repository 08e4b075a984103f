import os

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
    environment (``MODELCOLLAPSE_JAX_CACHE`` overrides; the library never sets it)."""
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
