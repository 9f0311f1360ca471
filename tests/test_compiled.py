"""vcfx.compiled: loops compiled by numba on first use, calling each other, with numba left unimported until then."""

import subprocess
import sys

import numpy as np

import vcfx


@vcfx.compiled
def running_total(x):
    out = np.empty_like(x)
    total = 0.0
    for i in range(len(x)):
        total += x[i]
        out[i] = total
    return out


@vcfx.compiled
def last_total(x):
    return running_total(x)[-1]


def test_a_compiled_loop_gives_what_the_python_one_gives():
    x = np.random.default_rng(0).standard_normal(1000)
    np.testing.assert_array_equal(running_total(x), np.cumsum(x))
    assert running_total.__name__ == "running_total"


def test_a_compiled_loop_may_call_another():
    x = np.arange(10.0)
    assert last_total(x) == 45.0


def test_numba_is_imported_only_when_a_loop_first_runs():
    code = ("import sys, numpy as np, vcfx, vcfx_world\n"
            "assert 'numba' not in sys.modules\n"
            "from vcfx_world.stonemask import refine\n"
            "refine(np.zeros(100), np.zeros(1), np.zeros(1), 16000)\n"
            "assert 'numba' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
