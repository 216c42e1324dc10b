"""Seed rows 38-45, Einstein Summation ... Save/Load Arrays (the rows after "Statistics")."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from parity_tests.op_table.model import (
    AGREE,
    F32,
    I64,
    Check,
    Fix,
    InputArrays,
    OpCase,
    OpEntry,
    OpSample,
    _given,
    _s,
)
from parity_tests.op_table.numpy_like import _float_like_numpy
from parity_tests.op_table.runner import random_array

NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _conv1d_no_flip(t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The table's reading: conv1d (cross-correlation), padded to np.convolve's 'full' size."""
    return F.conv1d(t.view(1, 1, -1), u.view(1, 1, -1), padding=u.numel() - 1).view(-1)


def _convolve_full(t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """np.convolve(a, v) ('full'): conv1d with the kernel flipped and padding len(v) - 1."""
    return F.conv1d(t.view(1, 1, -1), u.flip(0).view(1, 1, -1), padding=u.numel() - 1).view(-1)


def _convolve_valid(t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """np.convolve(a, v, 'valid'): flipped kernel, no padding; NumPy swaps so len(a) >= len(v)."""
    sig, ker = (t, u) if t.numel() >= u.numel() else (u, t)
    return F.conv1d(sig.view(1, 1, -1), ker.flip(0).view(1, 1, -1)).view(-1)


def _fft_like_numpy(t: torch.Tensor) -> torch.Tensor:
    """np.fft.fft's dtype rule: float64 kept; float32 kept on NumPy >= 2; ints -> float64."""
    keep = t.dtype == torch.float64 or (NUMPY2 and t.dtype == torch.float32)
    return torch.fft.fft(t if keep else t.to(torch.float64))


def _gradient_like_numpy(t: torch.Tensor, **kwargs: Any) -> Any:
    """np.gradient: torch.gradient on float64 for ints; a bare tensor for 1-D input."""
    g = torch.gradient(_float_like_numpy(t), **kwargs)
    return g[0] if t.ndim == 1 else g


def _horner(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Σ c[i]·x**i by Horner's rule (increasing order, as np.polynomial.polynomial.polyval)."""
    out = c[-1] + x * 0
    for i in range(2, c.numel() + 1):
        out = c[-i] + out * x
    return out


def _np_savez_roundtrip(a: np.ndarray) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "file.npz")
        np.savez(path, a)
        with np.load(path, allow_pickle=False) as archive:
            return archive["arr_0"]


def _torch_save_roundtrip(t: torch.Tensor) -> torch.Tensor:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "file.pt")
        torch.save(t, path)
        return torch.load(path, weights_only=True)


class _NotATensor:
    """An arbitrary picklable Python object: weights_only loading must refuse it."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]


def _check_np_load_refuses_object_arrays() -> None:
    obj = np.array([{"k": 1}, None], dtype=object)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "objects.npz")
        np.savez(path, obj)
        for kwargs in ({"allow_pickle": False}, {}):  # explicit, and NumPy's default
            with np.load(path, **kwargs) as archive:
                try:
                    archive["arr_0"]
                except ValueError:
                    pass
                else:
                    raise AssertionError(f"np.load({kwargs}) loaded an object array")
        with np.load(path, allow_pickle=True) as archive:  # the refusal is the flag's doing
            assert archive["arr_0"][0] == {"k": 1}


def _check_torch_load_refuses_arbitrary_objects() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "object.pt")
        torch.save(_NotATensor(), path)
        for kwargs in ({"weights_only": True}, {}):  # explicit, and torch's default
            try:
                torch.load(path, **kwargs)
            except pickle.UnpicklingError:
                pass
            else:
                raise AssertionError(f"torch.load({kwargs}) loaded an arbitrary object")
        loaded = torch.load(path, weights_only=False)  # trusted file: the flag is the gate
        assert isinstance(loaded, _NotATensor) and loaded.payload == [1, 2, 3]


def _check_torch_has_no_polyval() -> None:
    assert not hasattr(torch, "polyval"), "torch.polyval exists now: update the Polynomial row"


def _make_poly(rng: np.random.Generator, sample: OpSample) -> InputArrays:
    x_shape, c_shape = sample.shapes
    return random_array(rng, x_shape, sample.dtype), random_array(rng, c_shape, sample.dtype)


ROWS: tuple[OpEntry, ...] = (
    OpEntry(
        "Einstein Summation",
        "np.einsum('ij,jk->ik', a, b)",
        "torch.einsum('ij,jk->ik', a, b)",
        "equivalent",
        "Same subscripts, same results (integer input stays integer). See "
        "parity_tests/tests/test_einsum_exercises.py for the seed's exercises.",
        (
            OpCase(
                "einsum", "np.einsum('ij,jk->ik', a, b)", "torch.einsum('ij,jk->ik', t, u)",
                lambda a, b: np.einsum("ij,jk->ik", a, b),
                lambda t, u: torch.einsum("ij,jk->ik", t, u),
                (
                    _s((3, 4), (4, 5)), _s((3, 4), (4, 5), dtype=I64), _s((0, 4), (4, 2)),
                    _s((3, 0), (0, 2)),
                ),
            ),
        ),
    ),
    OpEntry(
        "Roll Elements",
        "np.roll(arr, shift)",
        "torch.roll(tensor, shift)",
        "equivalent",
        "Without an axis both roll the FLATTENED input and restore the shape; shifts wrap "
        "modulo the size; `axis=` is `dims=`.",
        (
            OpCase(
                "roll", "np.roll(a, 2)", "torch.roll(t, 2)",
                lambda a: np.roll(a, 2), lambda t: torch.roll(t, 2),
                (_s((5,)), _s((3, 4)), _s((2, 3, 4), dtype=I64), _s((0,)), _s(())),
            ),
            OpCase(
                "roll-negative", "np.roll(a, -7)", "torch.roll(t, -7)",
                lambda a: np.roll(a, -7), lambda t: torch.roll(t, -7),
                (_s((5,)), _s((3, 4), dtype=I64)),
            ),
            OpCase(
                "roll-axis1", "np.roll(a, 1, axis=1)", "torch.roll(t, 1, dims=1)",
                lambda a: np.roll(a, 1, axis=1), lambda t: torch.roll(t, 1, dims=1),
                (_s((3, 4)), _s((2, 3, 4), dtype=I64)),
            ),
        ),
    ),
    OpEntry(
        "Flip Arrays",
        "np.flip(arr)",
        "torch.flip(tensor, dims)",
        "equivalent with arguments",
        "`np.flip(a)` reverses every axis; `torch.flip` requires dims (TypeError without): "
        "`torch.flip(t, dims=tuple(range(t.ndim)))`. With an axis they agree.",
        (
            OpCase(
                "flip", "np.flip(a)", "torch.flip(t)", np.flip, lambda t: torch.flip(t),
                (
                    _s((5,), naive=TypeError), _s((3, 4), naive=TypeError),
                    _s((2, 3, 4), dtype=I64, naive=TypeError), _s((), naive=TypeError),
                    _s((0, 3), naive=TypeError),
                ),
                fixes=(Fix("torch.flip(t, dims=tuple(range(t.ndim)))",
                           lambda t: torch.flip(t, dims=tuple(range(t.ndim)))),),
            ),
            OpCase(
                "flip-axis0", "np.flip(a, axis=0)", "torch.flip(t, dims=(0,))",
                lambda a: np.flip(a, axis=0), lambda t: torch.flip(t, dims=(0,)),
                (_s((5,)), _s((3, 4), dtype=I64), _s((0, 3))),
            ),
        ),
    ),
    OpEntry(
        "Numerical Gradient",
        "np.gradient(arr)",
        "No direct equivalent (use autograd)",
        "diverges",
        "The table is wrong: `torch.gradient` (since 1.11) computes the same central "
        "differences, one-sided at the edges (`spacing=` and `edge_order=` map too). Autograd "
        "computes exact derivatives of code, not finite differences of samples. torch returns "
        "a tuple even for 1-D (take [0]) and float32 for integer input (cast to float64).",
        (
            OpCase(
                "gradient", "np.gradient(a)", None, np.gradient, None,
                (
                    _s((6,)), _s((3, 4)), _s((2, 3, 4)), _s((5,), dtype=I64),
                    _s((3, 4), dtype=I64),
                ),
                fixes=(Fix("torch.gradient(t) ([0] for 1-D; t.double() for integer t)",
                           _gradient_like_numpy),),
            ),
            OpCase(
                "gradient-spacing", "np.gradient(a, 0.5, edge_order=2)", None,
                lambda a: np.gradient(a, 0.5, edge_order=2), None,
                (_s((6,)), _s((3, 4))),
                fixes=(Fix("torch.gradient(t, spacing=0.5, edge_order=2)",
                           lambda t: _gradient_like_numpy(t, spacing=0.5, edge_order=2)),),
            ),
        ),
    ),
    OpEntry(
        "1D Convolution",
        "np.convolve(a, b)",
        "torch.nn.functional.conv1d()",
        "diverges",
        "`np.convolve` is a true convolution (kernel flipped), 'full' mode by default, and "
        "swaps its arguments so the longer one slides; `F.conv1d` is a cross-correlation "
        "(no flip) over (N, C, L) tensors, 'valid' without padding. They agree only for "
        "symmetric kernels. Use `F.conv1d(a.view(1,1,-1), b.flip(0).view(1,1,-1), "
        "padding=len(b)-1)` for 'full'.",
        (
            OpCase(
                "convolve", "np.convolve(a, b)",
                "F.conv1d(t.view(1,1,-1), u.view(1,1,-1), padding=len(u)-1)",
                np.convolve, _conv1d_no_flip,
                (
                    _s((8,), (3,), naive="values"), _s((5,), (5,), naive="values"),
                    _s((3,), (5,), naive="values"), _s((6,), (3,), dtype=I64, naive="values"),
                    _s(label="symmetric", make=_given([1.0, 4.0, -2.0, 0.5], [1.0, 2.0, 1.0])),
                ),
                fixes=(Fix("F.conv1d(t.view(1,1,-1), u.flip(0).view(1,1,-1), "
                           "padding=len(u)-1)", _convolve_full),),
            ),
            OpCase(
                "convolve-valid", "np.convolve(a, b, 'valid')",
                "F.conv1d(t.view(1,1,-1), u.view(1,1,-1))",
                lambda a, b: np.convolve(a, b, "valid"),
                lambda t, u: F.conv1d(t.view(1, 1, -1), u.view(1, 1, -1)).view(-1),
                (
                    _s((8,), (3,), naive="values"), _s((3,), (5,), naive=RuntimeError),
                    _s((6,), (2,), dtype=I64, naive="values"),
                ),
                fixes=(Fix("F.conv1d(longer, shorter.flip(0)) on (1, 1, L) views",
                           _convolve_valid),),
            ),
        ),
    ),
    OpEntry(
        "FFT",
        "np.fft.fft(arr)",
        "torch.fft.fft(tensor)",
        "equivalent with arguments",
        "Same transform along the last axis. dtypes: float64 -> complex128 in both; float32 -> "
        "complex64 in both since NumPy 2.0 (NumPy 1.x returned complex128); integer input -> "
        "complex128 in NumPy but complex64 in torch: cast to float64 first.",
        (
            OpCase(
                "fft", "np.fft.fft(a)", "torch.fft.fft(t)", np.fft.fft, torch.fft.fft,
                (
                    _s((8,)), _s((3, 4)), _s((1,)),
                    _s((8,), dtype=F32, naive=AGREE if NUMPY2 else "dtype"),
                    _s((8,), dtype=I64, naive="dtype"),
                ),
                fixes=(Fix("torch.fft.fft(t.double()) for integer t", _fft_like_numpy),),
            ),
        ),
    ),
    OpEntry(
        "Polynomial Operations",
        "np.polynomial.polynomial.polyval()",
        "No direct equivalent",
        "diverges",
        "True, torch has no polyval; Horner's rule is three lines of torch. Mind the "
        "coefficient order: `np.polynomial.polynomial.polyval(x, c)` takes c in INCREASING "
        "order (c[0] + c[1] x + ...), the older `np.polyval(p, x)` in DECREASING order. "
        "polynomial.polyval computes in float64 even for integer input.",
        (
            OpCase(
                "polyval", "np.polynomial.polynomial.polyval(a, c)", None,
                np.polynomial.polynomial.polyval, None,
                (
                    _s((5,), (4,)), _s((2, 3), (3,)), _s((), (1,)), _s((0,), (3,)),
                    _s((5,), (3,), dtype=I64),
                ),
                fixes=(Fix("Horner: out = c[-1] + x*0; out = c[-i] + out*x (float64 c)",
                           lambda t, c: _horner(t, _float_like_numpy(c))),),
                make=_make_poly,
            ),
            OpCase(
                "polyval-decreasing", "np.polyval(c, a)", "Horner with increasing-order c",
                lambda a, c: np.polyval(c, a), _horner,
                (_s((5,), (4,), naive="values"), _s((2, 3), (3,), dtype=I64, naive="values")),
                fixes=(Fix("Horner on c.flip(0)", lambda t, c: _horner(t, c.flip(0))),),
                make=_make_poly,
            ),
        ),
        checks=(
            Check("torch-has-no-polyval", "torch has no polyval (the table's claim holds)",
                  _check_torch_has_no_polyval),
        ),
    ),
    OpEntry(
        "Save/Load Arrays",
        "np.savez('file.npz', arr)",
        "torch.save(tensor, 'file.pt')",
        "equivalent",
        "Round trips are exact (dtype and shape kept, 0-d and empty included). Both loaders "
        "refuse pickled objects when asked: `np.load(allow_pickle=False)` (NumPy's default) "
        "raises ValueError on an object array; `torch.load(weights_only=True)` (torch's "
        "default since 2.6) raises UnpicklingError on an arbitrary Python object.",
        (
            OpCase(
                "save-load", "np.savez(p, a); np.load(p, allow_pickle=False)['arr_0']",
                "torch.save(t, p); torch.load(p, weights_only=True)",
                _np_savez_roundtrip, _torch_save_roundtrip,
                (
                    _s((3, 4)), _s((5,), dtype=I64), _s(()), _s((0, 3)), _s((2, 2), dtype=F32),
                    _s((4,), dtype="bool"),
                ),
                tol=(0.0, 0.0),
            ),
        ),
        checks=(
            Check("np-load-refuses-object-arrays",
                  "np.load(allow_pickle=False), and np.load by default, raise ValueError on "
                  "an object array; allow_pickle=True loads it",
                  _check_np_load_refuses_object_arrays),
            Check("torch-load-refuses-arbitrary-objects",
                  "torch.load(weights_only=True), and torch.load by default, raise "
                  "UnpicklingError on a custom object; weights_only=False loads it",
                  _check_torch_load_refuses_arbitrary_objects),
        ),
    ),
)
