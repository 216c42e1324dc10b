"""Every tolerance of the harness, in one place (printed in the README).

An element passes when |actual − expected| ≤ atol + rtol · |expected| (the rule of
``torch.testing.assert_close``). *Headroom* is the worst element's error over its allowed
error: 0.01 means a hundred times inside the tolerance, above 1 is a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """``atol + rtol·|expected|`` per element, or with ``norm="l2"`` a bound ``rtol`` on the
    relative L2 error ‖a − e‖ / ‖e‖ of the whole tensor; ``reason`` says why."""

    rtol: float
    atol: float
    reason: str = ""
    norm: str = "elementwise"

    def allowed(self, expected: np.ndarray) -> np.ndarray:
        return self.atol + self.rtol * np.abs(expected)

    def widened(self, atol_factor: float, reason: str) -> Tolerance:
        """The same rule with atol multiplied by ``atol_factor`` (>= 1), for the given
        reason: the one way any caller loosens a tolerance."""
        if not atol_factor >= 1.0:
            raise ValueError(f"Tolerance.widened: atol_factor must be >= 1, got {atol_factor}")
        return Tolerance(self.rtol, self.atol * atol_factor, reason, self.norm)

    def __str__(self) -> str:
        if self.norm == "l2":
            return f"relative L2 <= {self.rtol:.1e}"
        return f"rtol={self.rtol:.1e} atol={self.atol:.1e}"


#: Parity against torch: torch.testing.assert_close's defaults per dtype.
PARITY = {
    np.dtype(np.float32): Tolerance(rtol=1.3e-6, atol=1e-5, reason="assert_close default"),
    np.dtype(np.float64): Tolerance(rtol=1e-7, atol=1e-7, reason="assert_close default"),
}

#: Central finite differences in float64 with step FD_STEP: truncation O(h²) ≈ 1e-12 and
#: round-off O(ε·|f|/h) ≈ 1e-10·|f|, so 1e-6 relative leaves room and still catches any
#: real backward bug (those are O(1) relative).
FD_STEP = 1e-6
FINITE_DIFFERENCE = Tolerance(rtol=1e-6, atol=1e-7, reason="central differences, h=1e-6")

#: A gradient comparison is only meaningful if the reference gradient is far above the
#: absolute tolerance: max |reference| must exceed GRADIENT_GUARD · atol. Otherwise a
#: backward returning zeros would pass, and the case is a test-design error.
GRADIENT_GUARD = 50.0


def parity_tolerance(dtype: np.dtype, overrides: Mapping[np.dtype, Tolerance] | None = None
                     ) -> Tolerance:
    """The parity tolerance for ``dtype``, loosened by an entry's override if it has one."""
    dtype = np.dtype(dtype)
    if overrides and dtype in overrides:
        return overrides[dtype]
    return PARITY[dtype]


def markdown_table(overrides: dict[str, dict[np.dtype, Tolerance]] | None = None) -> str:
    """The tolerance table as it appears in the README (a test keeps the two in sync).

    ``overrides`` maps a registry entry's name to its loosened tolerances per dtype.
    """
    rows = [
        ("parity vs torch, float32", PARITY[np.dtype(np.float32)]),
        ("parity vs torch, float64", PARITY[np.dtype(np.float64)]),
        ("loop path vs vectorized path", "same as parity for the dtype"),
        ("finite differences (float64, h = 1e-6)", FINITE_DIFFERENCE),
    ]
    lines = ["| comparison | rtol | atol | why |", "|---|---|---|---|"]
    for name, tol in rows:
        if isinstance(tol, Tolerance):
            lines.append(f"| {name} | {tol.rtol:g} | {tol.atol:g} | {tol.reason} |")
        else:
            lines.append(f"| {name} | | | {tol} |")
    lines.append(
        f"| gradient guard | | {GRADIENT_GUARD:g} × atol | max \\|reference gradient\\| must "
        "exceed this, or the comparison could not fail |"
    )
    for entry_name, per_dtype in sorted((overrides or {}).items()):
        for dtype, tol in per_dtype.items():
            lines.append(f"| {entry_name}, {np.dtype(dtype).name} (override) | {tol.rtol:g} | "
                         f"{tol.atol:g} | {tol.reason} |")
    return "\n".join(lines)
