"""NumPy's ufunc buffer size, set around the passes whose speed depends on it.

A ufunc over operands that cannot be flattened into one run (a per-row value broadcast
over the row, ``e *= r[:, None]``; a strided NHWC view) is run by NumPy's buffered
iterator in chunks of up to ``bufsize`` elements (default 8192). A chunk that spans several
runs cannot be one strided inner loop, so NumPy copies the operands into its buffers
first; a chunk within one run is streamed as it is. Short runs still want long chunks
(many runs per call). The results are the same whatever the buffer: only the speed changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

#: NumPy's default ufunc buffer (elements).
DEFAULT_BUFFER = 8192


@contextlib.contextmanager
def ufunc_buffer(elements: int) -> Iterator[None]:
    """NumPy's ufunc buffer at ``elements`` (rounded down to a multiple of 16, NumPy's
    requirement; 16 at least) inside the block."""
    old = np.setbufsize(max(16, elements // 16 * 16))
    try:
        yield
    finally:
        np.setbufsize(old)
