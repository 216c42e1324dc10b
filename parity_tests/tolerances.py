"""Every tolerance of the harness, in one place (printed in the README).

An element passes when

    |actual − expected| ≤ atol + rtol·|expected| + slack

The first two terms are ``torch.testing.assert_close``'s rule with its defaults per dtype:
they cover element-wise work (an activation, a product, a division), whose rounding is a few
ulps of the result. They do not cover a SUM: a sum of K terms computed in two different
orders differs by up to about √K·u·Σ|terms| (u the unit roundoff; the rounding of each
partial sum scales with the magnitude of the terms, not with the result), which exceeds
``atol`` when the terms cancel or K is large. So each comparison adds

    slack_i = SUM_SAFETY · √K_i · u · M_i

where K_i is the number of terms summed into element i and M_i = Σ|terms| their magnitude,
both given by the entry's error model (:mod:`parity_tests.error_models`: exact for
multilinear layers such as Linear and Conv2D, derived from the formula for softmax); layers
without one sum nothing large and keep slack 0. Finite differences have their own bound,
from the step: see :func:`finite_difference_slack`.

*Headroom* is the worst element's error over its allowed error: 0.01 means a hundred times
inside the tolerance, above 1 is a failure. A verdict must hold at every seed with a 2×
margin: ``parity check --seeds 0-199`` reports the worst headroom per check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """``atol + rtol·|expected|`` per element (plus any slack a comparison adds), or with
    ``norm="l2"`` a bound ``rtol`` on the relative L2 error ‖a − e‖ / ‖e‖ of the whole
    tensor; ``reason`` says why."""

    rtol: float
    atol: float
    reason: str = ""
    norm: str = "elementwise"

    def allowed(self, expected: np.ndarray, slack: np.ndarray | float = 0.0) -> np.ndarray:
        return self.atol + self.rtol * np.abs(expected) + slack

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


F32, F64 = np.dtype(np.float32), np.dtype(np.float64)

#: Parity against torch: torch.testing.assert_close's defaults per dtype.
PARITY = {
    F32: Tolerance(rtol=1.3e-6, atol=1e-5, reason="assert_close default"),
    F64: Tolerance(rtol=1e-7, atol=1e-7, reason="assert_close default"),
}

#: Unit roundoff u = 2^-p of each dtype (half the machine epsilon).
UNIT_ROUNDOFF = {F32: 2.0**-24, F64: 2.0**-53}
#: c in slack = c·√K·u·Σ|terms|: the rounding of a K-term sum in two different orders is a
#: random walk of about √K·u·Σ|terms| per side; c = 4 covers both sides and the tails.
SUM_SAFETY = 4.0


def summation_slack(dtype: np.dtype, terms: np.ndarray | float, magnitude: np.ndarray
                    ) -> np.ndarray:
    """The allowed extra error of sums of ``terms`` terms of total magnitude ``magnitude``
    (Σ|terms|), per element, in ``dtype``: SUM_SAFETY·√K·u·M."""
    u = UNIT_ROUNDOFF[np.dtype(dtype)]
    return SUM_SAFETY * np.sqrt(np.maximum(terms, 1.0)) * u * np.abs(magnitude)


#: Finite differences in float64: central differences along random directions v,
#: D(h) = (f(θ + h·v) − f(θ − h·v)) / 2h, against the backward's ⟨∇f, Δ⟩ / 2h where
#: Δ = fl(θ + h·v) − fl(θ − h·v) is the step actually taken (so the rounding of θ + h·v,
#: large for |θ| ≫ h, is not an error of either side).
FD_STEPS = (1e-6, 1e-8, 1e-10)
FD_DIRECTIONS = 3
#: A kink (ReLU at 0, a max-pool near-tie) within h of θ: the one-sided differences
#: (f(θ+hv) − f(θ))/h and (f(θ) − f(θ−hv))/h disagree by more than a smooth f allows
#: (h·|f''| ≤ FD_KINK·|D| plus round-off); the next, smaller step is tried, then a new
#: direction. This judges f alone, never the backward, so it cannot hide a wrong gradient.
FD_KINK = 1e-4
FD_MAX_DIRECTION_DRAWS = 12
#: The analytic side's own rounding, relative.
FD_RTOL = 1e-7
#: Round-off of D(h): each f is off by ~ε·F (F = Σ|terms of f| + Σ_z Σ|∂f/∂z ⊙ z|, the
#: rounding of its arrays carried through f: checks._conditioning), so D by ~ε·F/h; c = 8.
FD_ROUNDOFF_SAFETY = 8.0
#: Truncation of D(h) is ~h²·|f'''|/6 = |D(2h) − D(h)|/3 (Richardson); allowed: 2× that.
FD_TRUNCATION_SAFETY = 2.0
FINITE_DIFFERENCE = Tolerance(
    rtol=FD_RTOL, atol=0.0,
    reason=f"central differences along {FD_DIRECTIONS} random directions, "
           f"h={FD_STEPS[0]:g}·max(1, RMS) (smaller past a kink): "
           f"+ {FD_ROUNDOFF_SAFETY:g}·ε·F/h round-off + "
           f"{FD_TRUNCATION_SAFETY:g}·|D(2h) − D(h)| truncation")


def fd_roundoff(f_scale: float, step: float) -> float:
    """The round-off of a central difference with step ``step`` of an f whose terms have
    magnitude ``f_scale``: FD_ROUNDOFF_SAFETY·ε·F/h."""
    return FD_ROUNDOFF_SAFETY * float(np.finfo(np.float64).eps) * f_scale / step


def finite_difference_slack(f_scale: np.ndarray, steps: np.ndarray, d_h: np.ndarray,
                            d_2h: np.ndarray, dot_magnitude: np.ndarray,
                            terms: int) -> np.ndarray:
    """The allowed error of the directional derivatives ``d_h`` (taken with ``steps``)
    beyond ``FD_RTOL``·|D|: round-off 8·ε·F/h, truncation 2·|D(2h) − D(h)|, and the analytic
    dot product's own rounding over ``terms`` terms of magnitude ``dot_magnitude``."""
    roundoff = np.array([fd_roundoff(f, h) for f, h in zip(f_scale, steps, strict=True)])
    truncation = FD_TRUNCATION_SAFETY * np.abs(d_2h - d_h)
    return roundoff + truncation + summation_slack(F64, terms, dot_magnitude)


#: A gradient comparison is only meaningful if it could fail: a backward returning zeros
#: must miss the tolerance by this factor (max |expected| / allowed >= GRADIENT_GUARD), so a
#: gradient off by 2 % fails too. Otherwise the comparison is a test-design error.
GRADIENT_GUARD = 50.0


def parity_tolerance(dtype: np.dtype, overrides: Mapping[np.dtype, Tolerance] | None = None
                     ) -> Tolerance:
    """The parity tolerance for ``dtype``, loosened by an entry's override if it has one."""
    dtype = np.dtype(dtype)
    if overrides and dtype in overrides:
        return overrides[dtype]
    return PARITY[dtype]


def markdown_table(overrides: Mapping[str, Mapping[np.dtype, Tolerance]] | None = None) -> str:
    """The tolerance table as it appears in the README (a test keeps the two in sync).

    ``overrides`` maps a registry entry's name to its loosened tolerances per dtype.
    """
    lines = ["| comparison | rtol | atol | why |", "|---|---|---|---|"]
    for name, tol in (("parity vs torch, float32", PARITY[F32]),
                      ("parity vs torch, float64", PARITY[F64])):
        lines.append(f"| {name} | {tol.rtol:g} | {tol.atol:g} | {tol.reason} |")
    lines += [
        f"| + summation slack | | | {SUM_SAFETY:g}·√K·u·Σ\\|terms\\| per element, K and "
        "Σ\\|terms\\| from the entry's error model; u = 2^-24 (float32), 2^-53 (float64) |",
        "| loop path vs vectorized path | | | same as parity for the dtype |",
        f"| finite differences (float64) | {FD_RTOL:g} | 0 | {_cell(FINITE_DIFFERENCE.reason)} |",
        f"| gradient guard | | | a backward returning zeros must miss the tolerance by "
        f"{GRADIENT_GUARD:g}× (max \\|expected\\| / allowed), or the comparison could not fail |",
    ]
    for entry_name, per_dtype in sorted((overrides or {}).items()):
        for dtype, tol in per_dtype.items():
            lines.append(f"| {entry_name}, {np.dtype(dtype).name} (override) | {tol.rtol:g} | "
                         f"{tol.atol:g} | {_cell(tol.reason)} |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text for a Markdown table cell (a bare | would end the cell)."""
    return text.replace("|", "\\|")
