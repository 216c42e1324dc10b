"""The names and one-line titles of the harness's checks, importable without torch.

The command line reads these to validate ``--check`` before anything heavy is imported;
:mod:`parity_tests.checks` binds each name to its function (and refuses to load if the two
lists disagree).
"""

from __future__ import annotations

CHECK_TITLES: dict[str, str] = {
    "forward": "the NumPy output against the torch module's",
    "input-grad": "backward(dy) against torch autograd for the same random dy",
    "param-grads": "every parameter gradient against torch's .grad",
    "buffers": "running statistics against torch's buffers",
    "impl-agreement": "the loop path against the vectorized path, every tensor",
    "finite-diff": "the float64 backward against finite differences (no torch)",
    "dtype": "every tensor in the input's dtype; a loss returns a Python float",
    "warnings": "no NumPy RuntimeWarning from valid input",
    "inputs-untouched": "forward and backward never write into x, target or dy",
    "memory-layout": "a non-contiguous input gives a contiguous copy's results",
    "cache-freshness": "backward uses the cache of the last forward",
    "bad-input": "each error input raises the documented error at its stage",
}
CHECK_NAMES: tuple[str, ...] = tuple(CHECK_TITLES)
