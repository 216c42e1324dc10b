"""Turn a pytest-benchmark JSON into the benchmark report: Markdown tables and a PNG chart.

Reads only the JSON (``--from-json`` re-renders an old run): every benchmark carries its
layer, step, size, dtype, variant, loop scale factor and FLOPs in ``extra_info``; the
machine, versions, thread count, commit, date and peer library sit in
``machine_info["parity"]`` (written by ``benchmarks/conftest.py``), the memory pass's
figures in ``parity_memory`` (written by ``benchmarks/cli.py``, see
:mod:`benchmarks.memory`) and the bounds pass's in ``parity_bounds`` (see
:mod:`benchmarks.bounds`).

Times are medians. A loop variant timed on a subset is scaled to the full batch
(``extra_info["scale"]``) before any ratio is taken. Ratios: *speedup* = loop / vectorized
(higher is better); *vec/torch* = vectorized NumPy / torch (below 1 means NumPy is faster);
*vec/peer* the same against the peer library (mygrad).

``--compare`` gates on ratios measured within one run (:func:`compare_ratios`), never on
absolute times: on a shared machine a median moves by up to 4x between runs, torch's own
included, while two variants timed side by side move together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Variant order in tables and charts.
VARIANT_ORDER = ("loop", "vectorized", "torch", "torch_cl", "peer", "numpy")
TORCH_VARIANTS = ("torch", "torch_cl")
LAYER_ORDER = ("softmax", "linear", "conv2d", "maxpool", "avgpool", "batchnorm2d", "se",
               "se_resnet")


# --------------------------------------------------------------------------- records
@dataclass
class Entry:
    """One benchmark of the JSON, its time scaled to the full batch."""

    name: str
    fullname: str
    group: str
    layer: str
    step: str
    size: str
    label: str
    dtype: str
    variant: str
    median: float
    iqr: float
    rounds: int
    scale: float = 1.0
    subset: str | None = None
    flops: float | None = None  # of one timed call (the subset for a scaled loop)
    raw_median: float = 0.0
    check_headroom: float | None = None
    loosened: dict[str, str] = field(default_factory=dict)
    q1: float | None = None  # quartiles, scaled like the median
    q3: float | None = None

    def quartiles(self) -> tuple[float, float]:
        """(Q1, Q3), from the JSON or median ∓ IQR/2 when it has none."""
        low = self.q1 if self.q1 is not None else self.median - self.iqr / 2
        high = self.q3 if self.q3 is not None else self.median + self.iqr / 2
        return max(low, self.median * 1e-3), max(high, self.median)

    @property
    def display(self) -> str:
        """The group as a table cell reads it (the raw group name has '|' separators)."""
        if self.layer == "gemm":
            return f"machine: float32 GEMM peak, {self.label}"
        return f"{self.layer} {self.step} {self.label} {self.dtype}"

    @property
    def gflops(self) -> float | None:
        if not self.flops or not self.raw_median:
            return None
        return self.flops / self.raw_median / 1e9


def entries(data: dict[str, Any]) -> list[Entry]:
    """Every benchmark of a pytest-benchmark JSON (entries without our ``extra_info``, or
    without stats, are skipped)."""
    found = []
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        stats = bench.get("stats") or {}
        if "variant" not in info or "median" not in stats:
            continue
        scale = float(info.get("scale") or 1.0)
        found.append(Entry(
            name=bench["name"], fullname=bench.get("fullname", bench["name"]),
            group=bench.get("group") or bench["name"], layer=info.get("layer", "?"),
            step=info.get("step", "?"), size=info.get("size", "?"),
            label=info.get("label", info.get("size", "?")), dtype=info.get("dtype", "?"),
            variant=info["variant"], median=float(stats["median"]) * scale,
            iqr=float(stats.get("iqr", 0.0)) * scale, rounds=int(stats.get("rounds", 0)),
            scale=scale, subset=info.get("subset"), flops=info.get("flops"),
            raw_median=float(stats["median"]), check_headroom=info.get("check_headroom"),
            loosened=info.get("check_loosened") or {},
            q1=float(stats["q1"]) * scale if "q1" in stats else None,
            q3=float(stats["q3"]) * scale if "q3" in stats else None,
        ))
    return found


@dataclass
class Group:
    """One layer × size × dtype × step, its timed variants and its memory figures."""

    name: str
    layer: str
    step: str
    size: str
    label: str
    dtype: str
    variants: dict[str, Entry] = field(default_factory=dict)
    #: The memory pass's record per variant (``peak_bytes``, or ``skipped`` / ``error``).
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)

    def median(self, variant: str) -> float | None:
        entry = self.variants.get(variant)
        return entry.median if entry else None

    def _ratio(self, top: str, bottom: str) -> float | None:
        a, b = self.median(top), self.median(bottom)
        return a / b if a and b else None

    def spread(self, top: str, bottom: str) -> tuple[float, float] | None:
        """The ratio top / bottom from the quartiles: (Q1 / Q3, Q3 / Q1), the IQR of each
        side carried into the ratio (the chart's error bars)."""
        a, b = self.variants.get(top), self.variants.get(bottom)
        if a is None or b is None or not a.median or not b.median:
            return None
        (a1, a3), (b1, b3) = a.quartiles(), b.quartiles()
        return a1 / b3, a3 / b1

    @property
    def speedup(self) -> float | None:
        """loop → vectorized: how many times faster the vectorized path is."""
        return self._ratio("loop", "vectorized")

    @property
    def vs_torch(self) -> float | None:
        return self._ratio("vectorized", "torch")

    @property
    def vs_torch_cl(self) -> float | None:
        return self._ratio("vectorized", "torch_cl")

    @property
    def vs_peer(self) -> float | None:
        return self._ratio("vectorized", "peer")

    def peak(self, variant: str) -> float | None:
        """Peak memory (bytes) of one forward+backward call of ``variant``."""
        value = (self.memory.get(variant) or {}).get("peak_bytes")
        return float(value) if value is not None else None

    def memory_ratio(self, top: str, bottom: str) -> float | None:
        a, b = self.peak(top), self.peak(bottom)
        return a / b if a and b else None

    @property
    def timed(self) -> bool:
        return bool(self.variants)

    @property
    def row_label(self) -> str:
        """The chart's row name (without the dtype)."""
        return f"{self.layer} {self.step} {self.label}"


def sort_key(group: Group) -> tuple:
    layer = LAYER_ORDER.index(group.layer) if group.layer in LAYER_ORDER else len(LAYER_ORDER)
    return (layer, group.step != "bwd", group.step, group.size, group.dtype)


def groups(found: Iterable[Entry], memory: Iterable[dict[str, Any]] = ()) -> list[Group]:
    """Entries grouped by their pytest-benchmark group (machine groups left out), with the
    memory pass's records (``memory_records``) joined by group name; a memory-only case is
    a group without timed variants."""
    by_name: dict[str, Group] = {}
    for entry in found:
        if entry.layer == "gemm":
            continue
        group = by_name.setdefault(entry.group, Group(entry.group, entry.layer, entry.step,
                                                      entry.size, entry.label, entry.dtype))
        group.variants[entry.variant] = entry
    for record in memory:
        name = record.get("group")
        if not name or "variant" not in record:
            continue
        group = by_name.setdefault(name, Group(
            name, record.get("layer", "?"), record.get("step", "?"), record.get("size", "?"),
            record.get("label", record.get("size", "?")), record.get("dtype", "?")))
        group.memory[record["variant"]] = record
    return sorted(by_name.values(), key=sort_key)


def memory_section_data(data: dict[str, Any]) -> dict[str, Any]:
    section = data.get("parity_memory")
    return section if isinstance(section, dict) else {}


def memory_records(data: dict[str, Any]) -> list[dict[str, Any]]:
    records = memory_section_data(data).get("records") or []
    return [r for r in records if isinstance(r, dict)]


def all_groups_of(data: dict[str, Any]) -> list[Group]:
    """:func:`groups` of a whole JSON (timings and memory)."""
    return groups(entries(data), memory_records(data))


def gemm_peak(found: Iterable[Entry]) -> Entry | None:
    """The float32 GEMM benchmark (``test_bench_gemm.py``), if this run has it."""
    return next((e for e in found if e.layer == "gemm"), None)


# --------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """An issue target on float32: a time ratio (vectorized / ``against``) at most
    ``goal``, a loop → vectorized speedup at least ``goal``, or a peak-memory ratio
    (vectorized / ``against``, metric "memory") at most ``goal``. ``size`` None: every size
    of the layer (and every step), judged on the worst."""

    title: str
    layer: str
    metric: str  # "ratio" | "speedup" | "memory"
    goal: float
    size: str | None = None
    step: str | None = None
    against: str = "torch"
    dtype: str = "float32"

    def matches(self, group: Group) -> bool:
        return (group.layer == self.layer and group.dtype == self.dtype
                and (self.size is None or group.size == self.size)
                and (self.step is None or group.step == self.step))

    def value(self, group: Group) -> float | None:
        if self.metric == "speedup":
            return group.speedup
        if self.metric == "memory":
            return group.memory_ratio("vectorized", self.against)
        return group._ratio("vectorized", self.against)

    def versus(self, group: Group, other: str) -> float | None:
        """Ours (vectorized) / ``other`` on the same footing as the target (time, or peak
        memory for a memory target)."""
        if self.metric == "memory":
            return group.memory_ratio("vectorized", other)
        return group._ratio("vectorized", other)

    def met(self, value: float) -> bool:
        return value >= self.goal if self.metric == "speedup" else value <= self.goal

    @property
    def goal_text(self) -> str:
        if self.metric == "speedup":
            return f"≥ {self.goal:g}×"
        versus = "torch channels_last" if self.against == "torch_cl" else "torch"
        what = " peak memory" if self.metric == "memory" else ""
        return f"≤ {self.goal:g}× {versus}{what}"


CONV_28 = "n32-28x28-16to32-k3s1p1"
CONV_32 = "n64-32x32-3to64-k3s2p1"
#: Memory only (``test_bench_conv.memory_cases``).
CONV_64_MEMORY = "n64-64x64-64to64-k3s1p1"
#: Issue 13's goals (float32, vectorized over torch; channels_last for conv, pooling and batch
#: norm, whose committed 2.0× was against channels_last), then the earlier issues' speedups.
TARGETS = (
    Target("Conv2D fwd+bwd N=32 28² 16→32", "conv2d", "ratio", 1.1, size=CONV_28,
           step="fwd+bwd", against="torch_cl"),
    Target("Conv2D fwd+bwd N=64 32² 3→64 s2", "conv2d", "ratio", 0.7, size=CONV_32,
           step="fwd+bwd", against="torch_cl"),
    Target("Conv2D peak memory fwd+bwd N=64 64² 64→64", "conv2d", "memory", 1.5,
           size=CONV_64_MEMORY, step="fwd+bwd"),
    Target("Max pool fwd+bwd k2 s2", "maxpool", "ratio", 1.1, size="n32-28x28-c32-k2s2",
           against="torch_cl"),
    Target("Max pool fwd+bwd k3 s1", "maxpool", "ratio", 1.3, size="n32-28x28-c32-k3s1",
           against="torch_cl"),
    Target("Softmax fwd+bwd 4096×1000", "softmax", "ratio", 1.3, size="4096x1000",
           step="fwd+bwd"),
    Target("Softmax backward 256×10 vs autograd", "softmax", "ratio", 0.5, size="256x10",
           step="bwd"),
    Target("BatchNorm2d train fwd+bwd N=32 16² C=64", "batchnorm2d", "ratio", 1.2,
           against="torch_cl"),
    Target("Linear fwd+bwd 256×784→512", "linear", "ratio", 1.0),
    Target("SE block fwd+bwd N=32 16² C=64", "se", "ratio", 0.7),
    Target("Softmax loop → vectorized backward (every size)", "softmax", "speedup", 100.0,
           step="bwd"),
    Target("Conv2D loop → vectorized (every size, fwd and fwd+bwd)", "conv2d", "speedup", 10.0),
    Target("Pool2D loop → vectorized (max, every size)", "maxpool", "speedup", 3.0),
    Target("Pool2D loop → vectorized (average, every size)", "avgpool", "speedup", 3.0),
)


@dataclass
class TargetResult:
    target: Target
    value: float | None
    group: Group | None

    @property
    def status(self) -> str:
        if self.value is None:
            return "not measured"
        return "met" if self.target.met(self.value) else "NOT met"

    def versus(self, other: str) -> float | None:
        return None if self.group is None else self.target.versus(self.group, other)


def evaluate(target: Target, all_groups: list[Group]) -> TargetResult:
    """The target's value on its worst matching group (max ratio / min speedup)."""
    scored = [(v, g) for g in all_groups if target.matches(g)
              if (v := target.value(g)) is not None]
    if not scored:
        return TargetResult(target, None, None)
    pick = min if target.metric == "speedup" else max
    value, group = pick(scored, key=lambda pair: pair[0])
    return TargetResult(target, value, group)


def target_of(group: Group, variant: str) -> Target | None:
    """The time-ratio target of this bar (vectorized / ``variant``), if the issue has one."""
    return next((t for t in TARGETS if t.metric == "ratio" and t.against == variant
                 and t.matches(group)), None)


# --------------------------------------------------------------------------- bounds
def bounds_data(data: dict[str, Any]) -> dict[str, Any]:
    """The bounds pass's section of the JSON (``parity_bounds``, written by
    ``benchmarks/cli.py`` from :func:`benchmarks.bounds.measure`), or {}."""
    section = data.get("parity_bounds")
    return section if isinstance(section, dict) else {}


def bound_records(data: dict[str, Any]) -> list[dict[str, Any]]:
    records = bounds_data(data).get("bounds") or []
    return [r for r in records if isinstance(r, dict) and isinstance(r.get("target"), str)]


def _positive(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def _seconds(part: object) -> float | None:
    return _positive(part.get("seconds")) if isinstance(part, dict) else None


def bound_least(record: dict[str, Any]) -> float | None:
    """The least work's time: the sum of its parts (every part is needed) or, with
    ``combine`` "min", the cheapest (alternative formulations); None when a part lacks
    its time."""
    parts = record.get("parts") or []
    times = [t for p in parts if (t := _seconds(p)) is not None]
    if not times or len(times) < len(parts):
        return None
    return min(times) if record.get("combine") == "min" else sum(times)


def _layer_parts(record: dict[str, Any]) -> list[Any]:
    """The parts and context entries marked as passes of the layer's own formulation."""
    found = [*(record.get("parts") or []), *(record.get("context") or [])]
    return [p for p in found if isinstance(p, dict) and p.get("in_layer") is True]


def bound_passes(record: dict[str, Any]) -> float | None:
    """The layer's own passes at their best: the sum of the entries marked ``in_layer``;
    None when none is marked or one lacks its time."""
    marked = _layer_parts(record)
    times = [t for p in marked if (t := _seconds(p)) is not None]
    return sum(times) if marked and len(times) == len(marked) else None


def _over_torch(record: dict[str, Any], seconds: float | None) -> float | None:
    torch_time = _seconds(record.get("torch"))
    return seconds / torch_time if seconds and torch_time else None


def bound_ratio(record: dict[str, Any]) -> float | None:
    """Least work / torch's whole operation, both timed in the bounds pass."""
    return _over_torch(record, bound_least(record))


def bound_passes_ratio(record: dict[str, Any]) -> float | None:
    """The layer's own passes (:func:`bound_passes`) / torch's whole operation."""
    return _over_torch(record, bound_passes(record))


def bound_layer_ratio(record: dict[str, Any]) -> float | None:
    """The layer itself, timed in the bounds pass / torch's whole operation."""
    return _over_torch(record, _seconds(record.get("layer")))


def bound_verdict(ratio: float, goal: float, passes: float | None = None) -> str:
    """"bounded": the least work alone (``ratio`` of torch's time) already exceeds the
    goal, so no NumPy formulation of that work meets it here; "bounded (this
    formulation)": it does not, but the layer's own passes (``passes``, their ratio) alone
    do, so only another formulation could; "open" otherwise (the gap is in the layer,
    beyond its passes)."""
    if ratio > goal:
        return "bounded"
    return "bounded (this formulation)" if passes is not None and passes > goal else "open"


# --------------------------------------------------------------------------- baseline
#: The ratios ``--compare`` gates on, per group: (name, top, bottom, higher_is_better).
#: Each is measured within one run, so the machine's speed that day cancels out.
RATIOS = (
    ("vec/torch", "vectorized", "torch", False),
    ("vec/torch_cl", "vectorized", "torch_cl", False),
    ("loop→vec", "loop", "vectorized", True),
)


def group_ratios(all_groups: Iterable[Group]) -> dict[tuple[str, str], float]:
    """Every gated ratio of every group: {(group name, ratio name): value}."""
    found = {}
    for group in all_groups:
        for name, top, bottom, _ in RATIOS:
            value = group._ratio(top, bottom)
            if value is not None:
                found[(group.name, name)] = value
    return found


@dataclass
class RatioDelta:
    """One ratio of one group in the baseline and now. ``change`` is how much WORSE it got
    (+0.25: vectorized / torch 25 % higher, or the loop → vectorized speedup 1.25× lower)."""

    group: str
    ratio: str
    baseline: float
    now: float
    threshold: float

    @property
    def higher_is_better(self) -> bool:
        return next(better for name, _, _, better in RATIOS if name == self.ratio)

    @property
    def change(self) -> float:
        if self.higher_is_better:
            return self.baseline / self.now - 1.0
        return self.now / self.baseline - 1.0

    @property
    def regression(self) -> bool:
        return self.change > self.threshold


def compare_ratios(current: Iterable[Group], baseline: Iterable[Group], threshold: float
                   ) -> list[RatioDelta]:
    """Every ratio of :data:`RATIOS` present in both runs (by group name); a regression is
    worse by more than ``threshold`` (0.2 = 20 %). Absolute times are never compared."""
    base = group_ratios(baseline)
    return [RatioDelta(key[0], key[1], base[key], value, threshold)
            for key, value in group_ratios(current).items()
            if key in base and base[key] > 0 and value > 0]


class BaselineError(ValueError):
    """A ``--compare`` baseline that cannot be used (the message names the file)."""


@dataclass
class Baseline:
    """A checked ``--compare`` baseline: its name, JSON, groups and the threshold."""

    name: str
    data: dict[str, Any]
    groups: list[Group]
    threshold: float = 0.2


def load_baseline(path: Path, threshold: float = 0.2) -> Baseline:
    """Read and check a baseline BEFORE anything runs: :class:`BaselineError` naming the file
    when it is unreadable, empty, not JSON, not a pytest-benchmark JSON, or has no
    benchmark of this suite with a ratio to compare."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"baseline {path}: cannot be read ({error})") from None
    if not text.strip():
        raise BaselineError(f"baseline {path}: the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(f"baseline {path}: not valid JSON ({error}); is it "
                            f"truncated or corrupt?") from None
    return load_baseline_data(data, str(path), threshold)


def load_baseline_data(data: object, name: str, threshold: float = 0.2) -> Baseline:
    """:func:`load_baseline`'s checks of the parsed JSON ``data`` (named ``name``)."""
    path = name
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise BaselineError(f"baseline {path}: not a pytest-benchmark JSON (no "
                            f"'benchmarks' list)")
    found = entries(data)
    if not found:
        raise BaselineError(f"baseline {path}: has no benchmark of this suite (none of its "
                            f"{len(data['benchmarks'])} entries has our extra_info)")
    all_groups = groups(found)
    if not group_ratios(all_groups):
        raise BaselineError(f"baseline {path}: has no ratio to compare (no group with "
                            f"vectorized and torch, or loop and vectorized)")
    return Baseline(name, data, all_groups, threshold)


def _parity(data: dict[str, Any]) -> dict[str, Any]:
    return (data.get("machine_info") or {}).get("parity") or {}


def _blas(info: dict[str, Any]) -> list[str]:
    """The BLAS pools as 'library version (kernel)', threadpoolctl's view."""
    return sorted(
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture') or '?'})"
        for p in info.get("threadpools") or [] if p.get("user_api") == "blas")


def environment_warnings(current: dict[str, Any], baseline: dict[str, Any],
                         name: str = "the baseline") -> list[str]:
    """What differs between the run and the baseline's machine: the CPU model, the BLAS
    library or kernel (threadpoolctl), the thread count, the torch and NumPy versions.
    Ratios cancel the machine's speed, not a different kernel or thread count."""
    now, then = _parity(current), _parity(baseline)
    if not then:
        return [f"{name} records no machine (no machine_info.parity): cannot tell whether "
                f"it comes from this machine, BLAS and thread count"]
    warnings = []
    checks = (
        ("CPU model", now.get("cpu_model"), then.get("cpu_model"), "another machine"),
        ("BLAS library / kernel", ", ".join(_blas(now)) or None,
         ", ".join(_blas(then)) or None, "another BLAS"),
        ("thread count", now.get("threads"), then.get("threads"), "another thread count"),
        ("torch version", now.get("torch"), then.get("torch"), "another torch"),
        ("NumPy version", now.get("numpy"), then.get("numpy"), "another NumPy"),
    )
    for what, a, b, meaning in checks:
        if a is not None and b is not None and str(a) != str(b):
            warnings.append(f"{name} comes from {meaning}: {what} {b} there, {a} here")
    return warnings


@dataclass
class Comparison:
    """The outcome of ``--compare``."""

    baseline: Baseline
    deltas: list[RatioDelta]
    warnings: list[str]

    @property
    def regressions(self) -> list[RatioDelta]:
        return sorted((d for d in self.deltas if d.regression), key=lambda d: -d.change)

    @property
    def matched(self) -> bool:
        return bool(self.deltas)


def compare(data: dict[str, Any], baseline: Baseline) -> Comparison:
    return Comparison(baseline,
                      compare_ratios(groups(entries(data)), baseline.groups,
                                     baseline.threshold),
                      environment_warnings(data, baseline.data, f"baseline {baseline.name}"))


# --------------------------------------------------------------------------- formatting
def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= factor:
            return f"{seconds / factor:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}×" if value < 100 else f"{value:,.0f}×"


def fmt_gflops(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


MIB = float(1 << 20)


def fmt_mib(value: float | None) -> str:
    if value is None:
        return "–"
    mib = value / MIB
    return f"{mib:,.0f}" if mib >= 100 else f"{mib:.3g}"


def run_stamp(data: dict[str, Any]) -> tuple[str, str]:
    """(commit, date) of the run: ``git rev-parse --short HEAD`` as the run recorded it
    ("unknown" outside a checkout), and the date (UTC, to the second)."""
    info = _parity(data)
    commit = info.get("commit")
    if not commit or commit == "unknown":
        commit = ((data.get("commit_info") or {}).get("id") or "")[:7] or "unknown"
    if (data.get("commit_info") or {}).get("dirty") and commit != "unknown":
        commit += " (dirty)"
    date = str(info.get("date") or data.get("datetime") or "unknown")
    if "T" in date:  # ISO: to the second, in UTC as recorded
        day, clock = date.split("T", 1)
        date = f"{day} {clock[:8]} UTC"
    return commit, date


def peer_text(data: dict[str, Any]) -> str:
    info = _parity(data).get("peer") or {}
    if not info:
        return "not recorded"
    if not info.get("available"):
        return info.get("reason") or f"{info.get('library')} not installed"
    return f"{info.get('library')} {info.get('version')}"


def assignments(env: dict[str, str]) -> str:
    """``K=V, ...`` of a run's recorded variables, sorted by name ("" when none)."""
    return ", ".join(f"{k}={v}" for k, v in sorted(env.items()))


def kernel_variables_text(kernel_env: dict[str, str]) -> str:
    """The kernel-choosing variables of the run, in bold with what to do when one forces
    OpenBLAS's kernel (the GEMMs then run that kernel, not the one for this CPU)."""
    if not kernel_env:
        return "none set (each library picks its kernels for this CPU)"
    text = assignments(kernel_env)
    if "OPENBLAS_CORETYPE" in kernel_env:
        text = (f"**{text}: OpenBLAS runs the {kernel_env['OPENBLAS_CORETYPE']} kernel "
                f"whatever the CPU; unset it (and OPENBLAS_L2_SIZE) in the bench command "
                f"to time the kernel OpenBLAS picks**")
    return text


def machine_section(data: dict[str, Any], peak: Entry | None) -> list[str]:
    machine = data.get("machine_info") or {}
    info = machine.get("parity") or {}
    cpu = info.get("cpu_model") or (machine.get("cpu") or {}).get("brand_raw") or "unknown"
    cores = info.get("logical_cores")
    usable = info.get("affinity_cores")
    threads = info.get("threads", "unknown")
    pools = "; ".join(
        f"{p.get('internal_api')} {p.get('version') or ''} "
        f"({p.get('user_api')}, {p.get('architecture') or p.get('threading_layer') or '-'}, "
        f"{p.get('num_threads')} thread(s))".replace("  ", " ")
        for p in info.get("threadpools", [])
    ) or "unknown"
    if peak is not None and peak.gflops:
        peak_text = (f"{peak.gflops:.1f} GFLOP/s ({peak.label}, median "
                     f"{fmt_time(peak.median)}, {threads} thread(s), this run)")
    else:
        peak_text = "not measured in this run (select `gemm` to measure it)"
    commit, date = run_stamp(data)
    if info.get("numpy_preimported"):
        threads = (f"{threads} (NumPy was imported before the variables were set; "
                   f"threadpoolctl capped its pools)")
    env = info.get("env") or {}
    env_text = assignments(env) or "–"
    kernel_text = kernel_variables_text(info.get("kernel_env") or {})
    return [
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {cpu}; {cores} logical core(s), {usable} usable |",
        f"| Threads | **{threads}** (BLAS/OpenMP variables set before NumPy was imported, "
        f"threadpoolctl, `torch.set_num_threads`; torch reports "
        f"{info.get('torch_threads', '?')}) |",
        f"| Thread variables | {env_text} |",
        f"| Python / NumPy / torch | {info.get('python', machine.get('python_version', '?'))} / "
        f"{info.get('numpy', '?')} / {info.get('torch', '?')} "
        f"(oneDNN {'available' if info.get('torch_mkldnn') else 'not available'}) |",
        f"| BLAS and OpenMP pools | {pools} |",
        f"| Kernel variables | {kernel_text} |",
        f"| float32 GEMM peak | {peak_text} |",
        f"| Peer library | {cell(peer_text(data))} |",
        f"| Run | {date}, commit {commit}, pytest-benchmark {data.get('version', '?')} |",
        "",
    ]


def gflops_note(group: Group | None, peak: Entry | None) -> str:
    if group is None:
        return ""
    parts = []
    for variant in ("vectorized", "torch", "torch_cl", "peer"):
        entry = group.variants.get(variant)
        if entry is not None and entry.gflops is not None:
            parts.append(f"{variant} {entry.gflops:.1f}")
    if not parts:
        return ""
    text = "GFLOP/s: " + ", ".join(parts)
    if peak is not None and peak.gflops:
        text += f" (GEMM peak {peak.gflops:.1f})"
    return text


def targets_section(results: list[TargetResult], peak: Entry | None, threads: object
                    ) -> list[str]:
    lines = ["## Targets (float32, vectorized NumPy)", ""]
    if str(threads) != "1":
        lines += [f"The targets are set for one thread; this run used {threads}.", ""]
    lines += [
        "*measured*: the target's own ratio on its worst group. *ours / torch*, *ours / "
        "peer*: vectorized NumPy over torch (NCHW) and over the peer library on that group "
        "(time; peak memory for a memory target).",
        "",
        "| target | goal | measured | status | ours / torch | ours / peer | where / note |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        t = result.target
        where = ""
        if result.group is not None:
            where = f"{result.group.step} {result.group.label}"
            note = gflops_note(result.group, peak) if t.layer in ("conv2d", "linear") else ""
            if t.metric == "memory":
                note = (f"peak MiB: vectorized {fmt_mib(result.group.peak('vectorized'))}, "
                        f"torch {fmt_mib(result.group.peak('torch'))}, torch_cl "
                        f"{fmt_mib(result.group.peak('torch_cl'))}")
            if note:
                where += f"; {note}"
        status = "**NOT met**" if result.status == "NOT met" else result.status
        lines.append(f"| {t.title} | {t.goal_text} | {fmt_ratio(result.value)} | {status} "
                     f"| {fmt_ratio(result.versus('torch'))} "
                     f"| {fmt_ratio(result.versus('peer'))} | {where} |")
    lines.append("")
    return lines


BOUNDS_MISSING = ("Not measured in this run (`parity bench --no-bounds`, or a re-rendered JSON "
                  "from before the bounds pass): no verdict on what bounds the unmet goals. "
                  "`parity bench` measures them (`benchmarks/bounds.py`).")


def bounds_section(data: dict[str, Any], results: list[TargetResult], peak: Entry | None
                   ) -> list[str]:
    """Per time target with a bound, and per time target not met: its least work against
    torch and the verdict (:func:`bound_verdict`; "– (goal met)" where it is met, "no bound
    measured" where the pass has none); then every measurement of the pass."""
    lines = ["## What bounds the unmet goals", ""]
    section = bounds_data(data)
    if not section:
        return lines + [BOUNDS_MISSING, ""]
    by_target = {r["target"]: r for r in bound_records(data)}
    lines += [
        f"Method: {section.get('method', '?')}. Each bound is a lower limit: the least "
        "work the layer cannot avoid, each pass the fastest NumPy call found for it. "
        "*least / torch*: its time over torch's whole forward+backward; *its passes / "
        "torch*: the passes the layer's own formulation runs (where the pass knows them), "
        "each at its best, summed; *layer / torch*: the layer itself timed the same way "
        "(our vectorized forward+backward on the benchmark's case). **bounded**: the "
        "least work alone already exceeds the goal ratio, so no NumPy formulation of it "
        "meets the goal on this machine; **bounded (this formulation)**: the least work "
        "does not, but the layer's own passes alone do, so only another formulation could; "
        "**open**: neither does, so the goal is not ruled out (the gap is in the layer, "
        "beyond its passes: per-call bookkeeping, data no longer in cache). Best-of times "
        "here, medians in the targets.",
        "",
        "| target | goal | measured | status | least work | its time | torch "
        "| least / torch | its passes / torch | layer / torch | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        t = result.target
        record = by_target.get(t.title)
        if t.metric != "ratio" or (record is None and result.status != "NOT met"):
            continue
        status = "**NOT met**" if result.status == "NOT met" else result.status
        head = f"| {t.title} | {t.goal_text} | {fmt_ratio(result.value)} | {status} "
        if record is None:
            lines.append(head + "| no bound measured | – | – | – | – | – | – |")
            continue
        ratio, passes = bound_ratio(record), bound_passes_ratio(record)
        if ratio is None:
            verdict = "not measured"
        elif result.status == "met":
            verdict = "– (goal met)"
        else:
            verdict = f"**{bound_verdict(ratio, t.goal, passes)}**"
        lines.append(head + f"| {cell(str(record.get('least', '?')))} "
                            f"| {fmt_time(bound_least(record))} "
                            f"| {fmt_time(_seconds(record.get('torch')))} "
                            f"| {fmt_ratio(ratio)} | {fmt_ratio(passes)} "
                            f"| {fmt_ratio(bound_layer_ratio(record))} | {verdict} |")
    lines += ["", "The measurements (GFLOP/s of each GEMM's own FLOPs"
              + (f", beside the GEMM peak of this run, {peak.gflops:.1f}"
                 if peak is not None and peak.gflops else "") + "):", ""]
    for record in by_target.values():
        how = "the cheaper of" if record.get("combine") == "min" else "the sum of"
        parts = "; ".join(_part_text(p) for p in record.get("parts") or [])
        line = (f"- **{record['target']}**, {how}: {parts}; = {fmt_time(bound_least(record))}."
                f" Against {_part_text(record.get('torch'))}.")
        context = [_part_text(p) for p in record.get("context") or []]
        if context:
            line += " Beside, not in the bound: " + "; ".join(context) + "."
        line += _layer_text(record)
        lines.append(line)
    lines.append("")
    return lines


INTERLEAVED_MISSING = ("Not measured in this run (`parity bench --no-interleaved`, or a "
                       "re-rendered JSON from before the interleaved pass). `parity bench` "
                       "measures it (`benchmarks/interleaved.py`).")


def interleaved_data(data: dict[str, Any]) -> dict[str, Any]:
    """The interleaved pass's section of the JSON (``parity_interleaved``, written by
    ``benchmarks/cli.py`` from :func:`benchmarks.interleaved.measure`), or {}."""
    section = data.get("parity_interleaved")
    return section if isinstance(section, dict) else {}


def interleaved_records(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The pass's records that name their target: measured ones (both medians and their
    ratio positive) and errors."""
    found = []
    for record in interleaved_data(data).get("records") or []:
        if not isinstance(record, dict) or not isinstance(record.get("target"), str):
            continue
        if "error" in record or all(_positive(record.get(k)) is not None
                                    for k in ("ours", "torch", "ratio")):
            found.append(record)
    return found


def interleaved_section(data: dict[str, Any], results: list[TargetResult]) -> list[str]:
    """Per time target: the benchmarks' ratio (the verdict) beside the ratio of the
    interleaved pass (its worst case, as :func:`evaluate` takes the worst group), whether
    that one meets the goal, the spread of the per-pair ratios and both medians; a case
    that could not be measured shows its error."""
    lines = ["## Interleaved cross-check of the time targets", ""]
    section = interleaved_data(data)
    records = interleaved_records(data)
    if not records:
        return lines + [INTERLEAVED_MISSING, ""]
    lines += [
        f"Method: {section.get('method', '?')}. The statuses above stay those of the "
        "benchmarks, where each variant loops on its own arrays (the issue's method). Here "
        "each call follows one of the other side's, which has evicted part of its data (as "
        "a layer inside a network runs after other layers), and the machine's drift hits "
        "both calls of a pair alike. *p10–p90*: the spread of the per-pair ratios.",
        "",
    ]
    if section.get("smoke"):
        lines += ["**Smoke sizes** (a few images or rows, as the tests run the pass): these "
                  "figures say nothing about the targets' sizes.", ""]
    lines += ["| target | goal | benchmarks (status) | interleaved | goal, interleaved "
              "| p10–p90 of the pairs | ours / torch (interleaved medians) | pairs |",
              "|---|---|---|---|---|---|---|---|"]
    for result in results:
        t = result.target
        mine = [r for r in records if r["target"] == t.title]
        if t.metric != "ratio" or not mine:
            continue
        status = "**NOT met**" if result.status == "NOT met" else result.status
        head = f"| {t.title} | {t.goal_text} | {fmt_ratio(result.value)} ({status}) "
        errors = [r for r in mine if "error" in r]
        if errors:
            lines.append(head + f"| ERROR ({cell(str(errors[0].get('group', '?')))}: "
                                f"{cell(str(errors[0]['error']))}) | – | – | – | – |")
            continue
        worst = max(mine, key=lambda r: r["ratio"])
        spread = worst.get("pair_ratios") or {}
        goal = "met" if t.met(worst["ratio"]) else "**NOT met**"
        lines.append(head + f"| {fmt_ratio(worst['ratio'])} | {goal} "
                            f"| {fmt_ratio(spread.get('p10'))}–{fmt_ratio(spread.get('p90'))} "
                            f"| {fmt_time(worst['ours'])} / {fmt_time(worst['torch'])} "
                            f"({worst.get('against', '?')}) | {worst.get('pairs', '?')} |")
    lines.append("")
    return lines


def _layer_text(record: dict[str, Any]) -> str:
    """' The layer's own passes: … = T (R× torch). The layer itself: T (R× torch; D beyond
    its passes).', each sentence where it was measured."""
    text = ""
    passes = bound_passes(record)
    if passes is not None:
        names = ", ".join(str(p.get("name", "?")) for p in _layer_parts(record))
        text += (f" The layer's own passes ({names}): = {fmt_time(passes)} "
                 f"({fmt_ratio(bound_passes_ratio(record))} torch).")
    layer = _seconds(record.get("layer"))
    if layer is not None:
        beyond = (f"; {fmt_time(layer - passes)} beyond its passes"
                  if passes is not None and layer > passes else "")
        named = _part_text(record.get("layer"))
        text += (f" {named[:1].upper()}{named[1:]}: "
                 f"{fmt_ratio(bound_layer_ratio(record))} torch{beyond}.")
    return text


def _part_text(part: object) -> str:
    """'name time (`how`, N GFLOP/s)' of one measured part."""
    if not isinstance(part, dict):
        return "?"
    seconds = _seconds(part)
    notes = [f"`{part['how']}`"] if part.get("how") else []
    flops = part.get("flops")
    if seconds and isinstance(flops, (int, float)) and flops > 0:
        notes.append(f"{flops / seconds / 1e9:.1f} GFLOP/s")
    return (f"{part.get('name', '?')} {fmt_time(seconds)}"
            + (f" ({', '.join(notes)})" if notes else ""))


def summary_section(all_groups: list[Group], peak: Entry | None = None,
                    peer_missing: dict[str, str] | None = None) -> list[str]:
    peak_text = f" (GEMM peak {peak.gflops:.1f})" if peak is not None and peak.gflops else ""
    lines = [
        "## Summary",
        "",
        "Medians per group. *loop→vec*: how many times faster the vectorized path is than "
        "the loop. *vec/torch*: vectorized NumPy time over torch's (below 1× NumPy is "
        "faster); *cl*: torch in `channels_last`; *peer*: the peer NumPy library. † loop "
        "timed on a subset and scaled linearly (see the full table). GFLOP/s beside the "
        "float32 GEMM peak measured in this run.",
        "",
        "| layer | step | size | dtype | loop | vectorized | torch | torch cl | peer "
        "| loop→vec | vec/torch | vec/torch cl | vec/peer "
        f"| GFLOP/s vec / torch / cl / peer{peak_text} |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    timed = [g for g in all_groups if g.timed]
    for g in timed:
        loop = g.variants.get("loop")
        loop_text = fmt_time(g.median("loop")) + (" †" if loop and loop.scale != 1 else "")
        rates = [g.variants[v].gflops if v in g.variants else None
                 for v in ("vectorized", "torch", "torch_cl", "peer")]
        rate_text = (" / ".join(fmt_gflops(r) for r in rates)
                     if any(r is not None for r in rates) else "–")
        lines.append(
            f"| {g.layer} | {g.step} | {g.label} | {g.dtype} | {loop_text} "
            f"| {fmt_time(g.median('vectorized'))} | {fmt_time(g.median('torch'))} "
            f"| {fmt_time(g.median('torch_cl'))} | {fmt_time(g.median('peer'))} "
            f"| {fmt_ratio(g.speedup)} | {fmt_ratio(g.vs_torch)} | {fmt_ratio(g.vs_torch_cl)} "
            f"| {fmt_ratio(g.vs_peer)} | {rate_text} |"
        )
    scaled = [(g, g.variants["loop"]) for g in timed
              if "loop" in g.variants and g.variants["loop"].scale != 1]
    if scaled:
        lines.append("")
        lines += [f"† {g.layer} {g.step} {g.label} {g.dtype}: loop {entry.subset} "
                  f"(time ×{entry.scale:g})  " for g, entry in scaled]
    missing = sorted({g.layer for g in timed if "peer" not in g.variants}
                     & set(peer_missing or {}))
    if missing:
        lines.append("")
        lines += [f"peer – for {layer}: {(peer_missing or {})[layer]}.  " for layer in missing]
    lines.append("")
    return lines


def memory_section(data: dict[str, Any], all_groups: list[Group]) -> list[str]:
    section = memory_section_data(data)
    with_memory = [g for g in all_groups if g.memory]
    lines = ["## Peak memory (one forward+backward call)", ""]
    if not section:
        lines += ["Not measured in this run (`parity bench --no-memory`, or a re-rendered "
                  "JSON without the memory pass).", ""]
        return lines
    lines += [
        f"MiB (2²⁰ bytes). Method: {section.get('description', '?')}. "
        f"{section.get('why', '')} *vec/torch*: the vectorized NumPy peak over torch's "
        "(NCHW); *cl*: channels_last. ‡ memory only (not timed). Memory is measured in its "
        "own pass, never inside the timed loop.",
        "",
        "| layer | step | size | dtype | loop | vectorized | torch | torch cl | peer "
        "| vec/torch | vec/torch cl | vec/peer |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for g in with_memory:
        cells = []
        for variant in ("loop", "vectorized", "torch", "torch_cl", "peer"):
            record = g.memory.get(variant)
            if record is None:
                cells.append("–")
            elif record.get("error"):
                cells.append("error")
                notes.append(f"{g.layer} {g.label} {g.dtype} [{variant}]: {record['error']}")
            elif record.get("skipped"):
                cells.append("skipped")
            else:
                cells.append(fmt_mib(g.peak(variant)))
        only = " ‡" if any(r.get("memory_only") for r in g.memory.values()) else ""
        lines.append(
            f"| {g.layer} | {g.step} | {g.label}{only} | {g.dtype} | {' | '.join(cells)} "
            f"| {fmt_ratio(g.memory_ratio('vectorized', 'torch'))} "
            f"| {fmt_ratio(g.memory_ratio('vectorized', 'torch_cl'))} "
            f"| {fmt_ratio(g.memory_ratio('vectorized', 'peer'))} |")
    skipped = sorted({r["skipped"] for g in with_memory for r in g.memory.values()
                      if r.get("skipped")})
    if skipped:
        lines.append("")
        lines += [f"skipped: {reason}.  " for reason in skipped]
    if notes:
        lines.append("")
        lines += [f"error: {cell(note)}  " for note in notes]
    lines.append("")
    lines += crosscheck_section(section, all_groups)
    return lines


def crosscheck_section(section: dict[str, Any], all_groups: list[Group]) -> list[str]:
    """The same conv case measured both ways (see :mod:`benchmarks.memory`)."""
    records = [r for r in section.get("crosscheck") or [] if isinstance(r, dict)]
    name = section.get("crosscheck_group")
    if not records or not name:
        return []
    group = next((g for g in all_groups if g.name == name), None)
    label = f"{group.layer} {group.step} {group.label} {group.dtype}" if group else name
    rows = []
    for record in records:
        rss = group.peak(record.get("variant", "?")) if group else None
        traced = record.get("peak_bytes")
        rows.append((record, rss, traced, traced / rss if traced and rss else None))
    ratios = [ratio for *_, ratio in rows if ratio is not None]
    worst = max((abs(r - 1) for r in ratios), default=None)
    agreement = ("" if worst is None else
                 f"Where each can see, they agree with the RSS figures within "
                 f"{worst:.1%}. " if worst <= 0.05 else
                 f"They differ from the RSS figures by up to {worst:.0%}: what the traced "
                 f"instrument does not see (another allocator) or the page granularity. ")
    lines = [
        f"**Cross-check of the method** on {label}: the same call measured with "
        "tracemalloc (NumPy's allocations; mygrad is NumPy too) and with torch.profiler "
        "(`profile_memory=True`, torch's allocator), each blind to the other library. "
        f"{agreement}The table uses RSS because it is the one instrument that sees both "
        "sides.",
        "",
        "| variant | RSS peak (MiB, the table) | traced peak (MiB) | instrument | traced / RSS |",
        "|---|---|---|---|---|",
    ]
    for record, rss, traced, ratio in rows:
        variant = record.get("variant", "?")
        instrument = record.get("instrument") or record.get("error") or record.get("skipped")
        lines.append(f"| {variant} | {fmt_mib(rss)} | "
                     f"{fmt_mib(float(traced)) if traced is not None else '–'} "
                     f"| {cell(str(instrument or '–'))} | {fmt_ratio(ratio)} |")
    lines.append("")
    return lines


def detail_section(found: list[Entry]) -> list[str]:
    lines = ["## Every benchmark", "",
             "Median and IQR scaled to the full batch where the loop ran on a subset; rounds "
             "as timed. *check headroom*: worst error / allowed error of the check against "
             "torch before timing (must be ≤ 1).", "",
             "| group | variant | median | IQR | rounds | GFLOP/s | check headroom | note |",
             "|---|---|---|---|---|---|---|---|"]
    order = {g: i for i, g in enumerate(g.name for g in groups(found))}
    ranked = sorted(found, key=lambda e: (order.get(e.group, -1), _variant_rank(e.variant)))
    for e in ranked:
        notes = []
        if e.subset:
            notes.append(f"{e.subset} (×{e.scale:g})")
        if e.loosened:
            notes.append("loosened check (see Method) on " + ", ".join(sorted(e.loosened)))
        headroom = "–" if e.check_headroom is None else f"{e.check_headroom:.2g}"
        lines.append(f"| {cell(e.display)} | {e.variant} | {fmt_time(e.median)} "
                     f"| {fmt_time(e.iqr)} | {e.rounds} | {fmt_gflops(e.gflops)} | {headroom} "
                     f"| {'; '.join(notes)} |")
    lines.append("")
    return lines


def _variant_rank(variant: str) -> int:
    return VARIANT_ORDER.index(variant) if variant in VARIANT_ORDER else len(VARIANT_ORDER)


def comparison_section(comparison: Comparison) -> list[str]:
    baseline, deltas = comparison.baseline, comparison.deltas
    commit, date = run_stamp(baseline.data)
    lines = ["## Comparison with the baseline", "",
             f"Against `{baseline.name}` (commit {commit}, {date}): the ratios measured "
             f"within each run ({', '.join(r[0] for r in RATIOS)}), "
             f"threshold +{baseline.threshold:.0%} worse; absolute times are not compared. "
             f"{len(deltas)} ratio(s) compared.", ""]
    if comparison.warnings:
        lines += [f"- **warning**: {w}" for w in comparison.warnings] + [""]
    if not deltas:
        lines += ["**No benchmark of this run matched the baseline.**", ""]
        return lines
    flagged = comparison.regressions
    if not flagged:
        lines += ["No regression.", ""]
    else:
        lines += ["| group | ratio | baseline | now | worse by |", "|---|---|---|---|---|"]
        lines += [f"| {cell(d.group)} | {d.ratio} | {fmt_ratio(d.baseline)} "
                  f"| {fmt_ratio(d.now)} | {d.change:+.0%} **REGRESSION** |" for d in flagged]
        lines.append("")
    lines += ["<details><summary>every compared ratio</summary>", "",
              "| group | ratio | baseline | now | worse by |", "|---|---|---|---|---|"]
    lines += [f"| {cell(d.group)} | {d.ratio} | {fmt_ratio(d.baseline)} | {fmt_ratio(d.now)} "
              f"| {d.change:+.0%}{' **REGRESSION**' if d.regression else ''} |"
              for d in deltas]
    lines += ["", "</details>", ""]
    return lines


METHOD = """## Method

- pytest-benchmark, one group per layer × size × dtype × step; variants `loop`,
  `vectorized` (NumPy), `torch` (stock module, NCHW), `torch_cl` (the same in
  `channels_last`, torch's fast CPU layout) and `peer`: the same work in mygrad, a
  maintained NumPy autodiff library with conv, pooling, softmax, batch norm and matmul
  (`pip install -e '.[peer]'`; NCHW, its own layout; skipped with the reason where it is
  not installed or has no such op). NumPy works in NHWC.
- Every variant, the peer's included, is checked once against the project's torch
  reference before it is timed (`parity_tests.compare`, parity tolerances: output, input
  gradient, every parameter gradient and buffer; the peer keeps no batch-norm running
  statistics, so buffers are not compared there). Exceptions, stated in
  `benchmarks/common.py`: float32 parameter gradients summed over M positions (and the
  SE-ResNet output, two K = 576 convolutions deep) get atol = 4·√M·ε·max|ref|, since
  summation order alone moves them ~√M·ε; the SE-ResNet float32 gradients pass through ReLU
  kinks that round to either side in different kernels, so they are compared in relative L2
  norm (≤ 1e-2) and the same NumPy code path is checked elementwise in float64.
- `fwd`: torch under `no_grad`. `bwd` (softmax): backward only, torch via
  `torch.autograd.grad` on a kept graph, the peer on a fresh forward graph built before each
  round (untimed; mygrad frees its graph in backward). `fwd+bwd`: a forward and a backward
  with a fixed random upstream gradient, torch's `.grad`s reset to None each round.
- Loop paths too slow to time at full size run on the first rows/images and are scaled
  linearly (marked †; the factor is in the table).
- Peak memory: one forward+backward call per variant, each in a fresh process, measured in
  a pass of its own after the timing (`benchmarks/memory.py` explains the method). The
  memory-only conv case N=64 64×64 64→64 (‡, the issue's memory target; timing it every
  run would take minutes) has vectorized and torch only: the loop and mygrad take minutes
  per call there. Its NumPy variant is checked against torch in the memory pass.
- What bounds the unmet goals: `benchmarks/bounds.py` in a process of its own after the
  timing, the least work of each layer (each pass the fastest NumPy call found for it, on
  the whole array or a block in cache) against torch's whole forward+backward, best of a
  few calls; stored in the JSON (`parity_bounds`), skipped with `--no-bounds`.
- The chart's error bars: each ratio's range from the two variants' quartiles (Q1 / Q3 to
  Q3 / Q1), i.e. both IQRs carried into the ratio.
- `--compare` gates on the ratios above, measured within one run; it warns when the
  baseline comes from another CPU, BLAS library or kernel, thread count or torch/NumPy.
- No test asserts a time; CI runs every benchmark once with `--benchmark-disable`.
"""


def render_markdown(
    data: dict[str, Any],
    chart: str | None = None,
    json_name: str | None = None,
    comparison: Comparison | None = None,
    problems: list[str] | None = None,
) -> str:
    """The report's Markdown; ``comparison`` (``--compare``) and ``problems`` (e.g. failed
    checks, listed at the top) when given."""
    found = entries(data)
    all_groups = groups(found, memory_records(data))
    peak = gemm_peak(found)
    results = [evaluate(t, all_groups) for t in TARGETS]
    commit, date = run_stamp(data)
    lines = ["# Benchmark report: NumPy layers vs torch on the CPU", ""]
    sources = []
    if json_name:
        sources.append(f"data: `{json_name}`")
    if chart:
        sources.append(f"chart: `{chart}`")
    threads = _parity(data).get("threads", "?")
    lines += [f"Commit **{commit}**, {date}. {len(found)} benchmarks in "
              f"{sum(g.timed for g in all_groups)} groups, **{threads} thread(s)**"
              + (f"; {', '.join(sources)}" if sources else "") + ".", ""]
    if problems:
        lines += ["## Problems in this run", "", *[f"- {p}" for p in problems], ""]
    if chart:
        lines += [f"![vectorized NumPy / torch and loop → vectorized speedups]({chart})", ""]
    lines += machine_section(data, peak)
    if comparison is not None:
        lines += comparison_section(comparison)
    lines += targets_section(results, peak, threads)
    lines += bounds_section(data, results, peak)
    lines += interleaved_section(data, results)
    lines += summary_section(all_groups, peak, (_parity(data).get("peer") or {}).get("missing"))
    lines += memory_section(data, all_groups)
    lines += detail_section(found)
    lines += [METHOD]
    return "\n".join(lines)


# --------------------------------------------------------------------------- chart
MET, NOT_MET = "#2ca02c", "#d62728"


def chart_title(data: dict[str, Any]) -> str:
    commit, date = run_stamp(data)
    threads = _parity(data).get("threads", "?")
    return (f"NumPy layers vs torch, CPU, {threads} thread(s) — medians; "
            f"commit {commit}, {date}")


def render_chart(data: dict[str, Any], path: Path) -> Path:
    """:func:`chart_figure` saved as a PNG at ``path``."""
    import matplotlib.pyplot as plt

    fig = chart_figure(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def chart_figure(data: dict[str, Any]) -> Any:
    """Three panels sharing the rows (layer · step · size): vectorized / torch in float32,
    the same in float64 (log axis, line at 1×), and the loop → vectorized speedups (log
    axis). Error bars: the ratio's spread from the quartiles (:meth:`Group.spread`). A bar
    with an issue target has its goal as a tick and is outlined green (met) or red (not
    met). The title carries the commit and the date (:func:`chart_title`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    all_groups = [g for g in groups(entries(data)) if g.timed]
    rows: list[str] = []
    for g in all_groups:
        if g.row_label not in rows:
            rows.append(g.row_label)
    by_row = {(g.row_label, g.dtype): g for g in all_groups}
    height = max(4.0, 0.42 * len(rows) + 2.4)
    fig, axes = plt.subplots(1, 3, figsize=(19, height), sharey=True,
                             gridspec_kw={"width_ratios": [1.15, 1.15, 1.0]})
    y_positions = list(range(len(rows)))
    colours = {"torch": "#1f77b4", "torch_cl": "#9ecae1"}
    bar = 0.38

    for ax, dtype in zip(axes[:2], ("float32", "float64"), strict=True):
        values: list[float] = []
        for y, row in zip(y_positions, rows, strict=True):
            g = by_row.get((row, dtype))
            if g is None:
                continue
            for k, variant in enumerate(("torch", "torch_cl")):
                ratio = g._ratio("vectorized", variant)
                if ratio is None:
                    continue
                pos = y - bar / 2 + k * bar
                target = target_of(g, variant) if dtype == "float32" else None
                goal = target.goal if target is not None else None
                _bar(ax, pos, ratio, g.spread("vectorized", variant), colours[variant], bar,
                     goal, None if target is None else target.met(ratio))
                values.append(ratio)
        _log_axis(ax, values, floor=0.05)
        ax.axvline(1.0, color="#555", linewidth=1.2, linestyle="--")
        ax.set_title(f"vectorized NumPy / torch, {dtype}\n(< 1× NumPy faster; log scale)",
                     fontsize=10)
        ax.grid(axis="x", which="both", alpha=0.25)

    ax = axes[2]
    values = []
    dtype_colours = {"float32": "#8c6bb1", "float64": "#cbb8de"}
    for y, row in zip(y_positions, rows, strict=True):
        for k, dtype in enumerate(("float32", "float64")):
            g = by_row.get((row, dtype))
            if g is None or g.speedup is None:
                continue
            pos = y - bar / 2 + k * bar
            target = (next((t for t in TARGETS if t.metric == "speedup" and t.matches(g)),
                           None) if dtype == "float32" else None)
            _bar(ax, pos, g.speedup, g.spread("loop", "vectorized"), dtype_colours[dtype],
                 bar, None if target is None else target.goal,
                 None if target is None else target.met(g.speedup),
                 hatch="//" if g.variants["loop"].scale != 1 else None)
            values.append(g.speedup)
    _log_axis(ax, values, floor=0.5)
    ax.axvline(1.0, color="#555", linewidth=1.2, linestyle="--")
    ax.set_title("loop → vectorized speedup\n(higher is better; log scale; hatched: loop "
                 "scaled from a subset)", fontsize=10)
    ax.grid(axis="x", which="both", alpha=0.25)

    axes[0].set_yticks(y_positions)
    axes[0].set_yticklabels(rows, fontsize=8)
    axes[0].invert_yaxis()
    handles = [Patch(color=colours["torch"], label="vs torch (NCHW)"),
               Patch(color=colours["torch_cl"], label="vs torch channels_last"),
               Patch(color=dtype_colours["float32"], label="speedup float32"),
               Patch(color=dtype_colours["float64"], label="speedup float64"),
               Line2D([], [], color="black", linewidth=2.2, label="target (float32)"),
               Patch(facecolor="white", edgecolor=MET, linewidth=2, label="target met"),
               Patch(facecolor="white", edgecolor=NOT_MET, linewidth=2, label="target NOT met"),
               Line2D([], [], color="#333", marker="|", linestyle="-",
                      label="spread (IQRs → ratio)"),
               Line2D([], [], color="#555", linestyle="--", label="1× (parity)")]
    fig.legend(handles=handles, loc="lower center", ncol=9, fontsize=8.5, frameon=False)
    fig.suptitle(chart_title(data), fontsize=12)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    return fig


def _bar(ax: Any, pos: float, value: float, spread: tuple[float, float] | None,
         colour: str, bar: float, goal: float | None, met: bool | None,
         hatch: str | None = None) -> None:
    """One bar with its spread; with a target, the goal tick and a green/red outline."""
    edge = {True: MET, False: NOT_MET}.get(met, "#444") if met is not None else "#444"
    ax.barh(pos, value, height=bar, color=colour, edgecolor=edge,
            linewidth=2.0 if met is not None else 0.4, hatch=hatch)
    if spread is not None:
        low, high = spread
        ax.errorbar(value, pos, xerr=[[max(value - low, 0.0)], [max(high - value, 0.0)]],
                    fmt="none", ecolor="#333", elinewidth=0.9, capsize=2)
    _bar_label(ax, value, pos, goal, bar, None if met is None else (MET if met else NOT_MET),
               spread[1] if spread else value)


def _bar_label(ax: Any, value: float, pos: float, goal: float | None, bar: float,
               colour: str | None = None, right: float | None = None) -> None:
    """The value past the bar's end (and its error bar) and, if the bar has a target, a
    black tick at the goal; the label moves past the tick when the two would overlap."""
    x = max(value, right or value)
    if goal is not None:
        ax.plot([goal, goal], [pos - bar / 2, pos + bar / 2], color="black", linewidth=2.2)
        if x <= goal <= x * 1.6:
            x = goal
    text = fmt_ratio(value)
    if colour is not None:
        text += " met" if colour == MET else " NOT met"
    ax.text(x * 1.05, pos, text, va="center", fontsize=7, color=colour or "black",
            fontweight="bold" if colour == NOT_MET else "normal")


def _log_axis(ax: Any, values: list[float], floor: float) -> None:
    ax.set_xscale("log")
    if values:
        low = min(min(values) / 1.6, floor)
        high = max(max(values) * 3.0, 2.0)
        ax.set_xlim(low, high)
    else:
        ax.set_xlim(floor, 10)
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center")


# --------------------------------------------------------------------------- files
def load(path: Path) -> dict[str, Any]:
    with Path(path).open() as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or "benchmarks" not in data:
        raise ValueError(f"{path}: not a pytest-benchmark JSON (no 'benchmarks' list)")
    return data


def write_report(
    data: dict[str, Any],
    out: Path,
    json_name: str = "benchmarks.json",
    comparison: Comparison | None = None,
    chart: bool = True,
    problems: list[str] | None = None,
) -> Path:
    """Write ``report.md`` (and ``report.png``) into ``out``; return the Markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    chart_name = None
    if chart:
        render_chart(data, out / "report.png")
        chart_name = "report.png"
    path = out / "report.md"
    path.write_text(render_markdown(data, chart_name, json_name, comparison, problems))
    return path
