"""Ctrl-C in the ``modelcollapse`` program: one line on stderr and exit status 130,
every time (``cli.entry``; ``cli.main`` and the library never change signal handling).

The mechanisms are tested in small subprocesses, each with a negative control: without
them the interrupt is lost or the teardown runs. The real harness is then interrupted
by SIGINT at a few delays (more in the slow tier).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _default_sigint():
    # a suite started in the background by a shell without job control inherits SIGINT
    # ignored, and so would the child (Python then installs no handler): the checks and
    # their controls need the default disposition, as a program started from a terminal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _python(code: str, tmp_path=None, timeout=60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path or ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_default_sigint)


@pytest.mark.parametrize("handled", [True, False])
def test_ctrl_c_inside_an_import_is_delivered_after_it(handled, tmp_path):
    """A module whose initialisation swallows KeyboardInterrupt (as extension code can)
    does not lose a Ctrl-C that arrives while it loads: it is raised in ordinary code
    once the import is over. Without the program's handler it is lost (control)."""
    (tmp_path / "swallowing.py").write_text(textwrap.dedent("""
        import signal
        try:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C while this module loads
            for _ in range(10**6):
                pass
        except KeyboardInterrupt:  # what an extension's initialisation may do
            SWALLOWED = True
    """))
    out = _python(f"""
        import sys, time
        sys.path.insert(0, {str(tmp_path)!r})
        from modelcollapse import cli
        if {handled}:
            cli._interrupts_between_imports()
        import swallowing
        try:
            time.sleep(1)
            print("lost", getattr(swallowing, "SWALLOWED", False))
        except KeyboardInterrupt:
            print("delivered", getattr(swallowing, "SWALLOWED", False))
    """)
    assert out.stdout.split() == (["delivered", "False"] if handled else ["lost", "True"])


@pytest.mark.parametrize("handled", [True, False])
def test_ctrl_c_inside_a_gc_callback_is_delivered_after_it(handled):
    """A Ctrl-C that lands in a garbage-collection callback (JAX registers one) is
    raised after it, not reported as "Exception ignored" and lost (control)."""
    out = _python(f"""
        import gc, signal, time
        from modelcollapse import cli
        if {handled}:
            cli._interrupts_between_imports()
        def callback(phase, info):
            if phase == "start" and not fired:
                fired.append(1)
                signal.raise_signal(signal.SIGINT)
                for _ in range(10**5):
                    pass
        fired = []
        gc.callbacks.append(callback)
        gc.collect()
        gc.callbacks.remove(callback)
        try:
            time.sleep(1)
            print("lost")
        except KeyboardInterrupt:
            print("delivered")
    """)
    assert out.stdout.split() == (["delivered"] if handled else ["lost"])
    assert ("Exception ignored" in out.stderr) is not handled


@pytest.mark.parametrize("jax_loaded", [True, False])
def test_interrupted_program_with_jax_skips_the_teardown(jax_loaded):
    """An interrupted command exits 130 with one line; one that loaded JAX leaves
    without the interpreter's teardown (no atexit handler runs), one that did not
    keeps it (control)."""
    out = _python(f"""
        import atexit, sys, types
        if {jax_loaded}:
            sys.modules["jax"] = types.ModuleType("jax")
        atexit.register(lambda: print("teardown"))
        from modelcollapse import cli

        def interrupted(argv=None):
            print("working")
            raise KeyboardInterrupt

        cli.main = interrupted
        cli.entry()
    """)
    assert out.returncode == 130
    assert out.stderr.splitlines() == ["modelcollapse: interrupted"]
    assert out.stdout.split() == (["working"] if jax_loaded else ["working", "teardown"])


def _interrupt_harness(tmp_path, delays):
    """``modelcollapse harness --config micro`` sent SIGINT after each delay: (delay,
    status, stderr) of the runs that were still going when it was sent."""
    pytest.importorskip("equinox")
    pytest.importorskip("optax")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for i, delay in enumerate(delays):
        out = tmp_path / f"run{i}"
        p = subprocess.Popen([sys.executable, "-m", "modelcollapse", "harness", "--config",
                              "micro", "--out", str(out)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=_default_sigint)
        time.sleep(delay)
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=60)
            runs.append((delay, p.returncode, err))
        else:  # finished first (a fast machine): nothing to interrupt
            p.communicate()
    if not runs:
        pytest.skip("the micro harness finished before every interrupt")
    return runs


def _one_line_and_130(runs):
    for delay, code, err in runs:
        assert code == 130 and err.splitlines() == ["modelcollapse harness: interrupted"], (
            delay, code, err)


def test_interrupted_harness_exits_130_with_one_line(tmp_path):
    """Ctrl-C during training (imports done, JAX threads busy)."""
    _one_line_and_130(_interrupt_harness(tmp_path, [3.0]))


@pytest.mark.slow
def test_interrupted_harness_exits_130_with_one_line_at_any_moment(tmp_path):
    """Ctrl-C while JAX loads, compiles, trains and samples: 12 delays."""
    _one_line_and_130(_interrupt_harness(
        tmp_path, [0.6, 0.8, 0.9, 1.0, 1.5, 2.0, 2.5, 3.5, 4.0, 4.5, 5.5, 6.5]))
