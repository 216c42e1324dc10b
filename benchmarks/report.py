"""Turn a pytest-benchmark JSON into the benchmark report: Markdown tables and a PNG chart.

Reads only the JSON (``--from-json`` re-renders an old run): every benchmark carries its
layer, step, size, dtype, variant, loop scale factor and FLOPs in ``extra_info``, and the
machine, versions and thread count sit in ``machine_info["parity"]`` (written by
``benchmarks/conftest.py``).

Times are medians. A loop variant timed on a subset is scaled to the full batch
(``extra_info["scale"]``) before any ratio is taken. Ratios: *speedup* = loop / vectorized
(higher is better); *vec/torch* = vectorized NumPy / torch (below 1 means NumPy is faster).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Variant order in tables and charts.
VARIANT_ORDER = ("loop", "vectorized", "torch", "torch_cl", "numpy")
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
        ))
    return found


@dataclass
class Group:
    """One layer × size × dtype × step, and its variants."""

    name: str
    layer: str
    step: str
    size: str
    label: str
    dtype: str
    variants: dict[str, Entry] = field(default_factory=dict)

    def median(self, variant: str) -> float | None:
        entry = self.variants.get(variant)
        return entry.median if entry else None

    def _ratio(self, top: str, bottom: str) -> float | None:
        a, b = self.median(top), self.median(bottom)
        return a / b if a and b else None

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
    def row_label(self) -> str:
        """The chart's row name (without the dtype)."""
        return f"{self.layer} {self.step} {self.label}"


def sort_key(group: Group) -> tuple:
    layer = LAYER_ORDER.index(group.layer) if group.layer in LAYER_ORDER else len(LAYER_ORDER)
    return (layer, group.step != "bwd", group.step, group.size, group.dtype)


def groups(found: Iterable[Entry]) -> list[Group]:
    """Entries grouped by their pytest-benchmark group (machine groups left out)."""
    by_name: dict[str, Group] = {}
    for entry in found:
        if entry.layer == "gemm":
            continue
        group = by_name.setdefault(entry.group, Group(entry.group, entry.layer, entry.step,
                                                      entry.size, entry.label, entry.dtype))
        group.variants[entry.variant] = entry
    return sorted(by_name.values(), key=sort_key)


def gemm_peak(found: Iterable[Entry]) -> Entry | None:
    """The float32 GEMM benchmark (``test_bench_gemm.py``), if this run has it."""
    return next((e for e in found if e.layer == "gemm"), None)


# --------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """An issue target: a ratio (vectorized / ``against``) at most ``goal``, or a loop →
    vectorized speedup at least ``goal``; float32. ``size`` None: every size of the layer
    (and every step), judged on the worst."""

    title: str
    layer: str
    metric: str  # "ratio" | "speedup"
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
        return group.vs_torch if self.against == "torch" else group.vs_torch_cl

    def met(self, value: float) -> bool:
        return value >= self.goal if self.metric == "speedup" else value <= self.goal

    @property
    def goal_text(self) -> str:
        if self.metric == "speedup":
            return f"≥ {self.goal:g}×"
        versus = "torch channels_last" if self.against == "torch_cl" else "torch"
        return f"≤ {self.goal:g}× {versus}"


CONV_28 = "n32-28x28-16to32-k3s1p1"
CONV_32 = "n64-32x32-3to64-k3s2p1"
TARGETS = (
    Target("Linear fwd+bwd 256×784→512", "linear", "ratio", 1.0),
    Target("Softmax backward 256×10 vs autograd", "softmax", "ratio", 0.5, size="256x10"),
    Target("Softmax backward 4096×1000 vs autograd", "softmax", "ratio", 1.5,
           size="4096x1000"),
    Target("Conv2D fwd+bwd N=32 28² 16→32", "conv2d", "ratio", 1.5, size=CONV_28,
           step="fwd+bwd", against="torch_cl"),
    Target("Conv2D fwd+bwd N=64 32² 3→64 s2", "conv2d", "ratio", 0.9, size=CONV_32,
           step="fwd+bwd", against="torch_cl"),
    Target("Max pool fwd+bwd k2 s2", "maxpool", "ratio", 1.5, size="n32-28x28-c32-k2s2",
           against="torch_cl"),
    Target("Max pool fwd+bwd k3 s1", "maxpool", "ratio", 2.0, size="n32-28x28-c32-k3s1",
           against="torch_cl"),
    Target("SE block fwd+bwd N=32 16² C=64", "se", "ratio", 0.7),
    Target("Softmax loop → vectorized (every size)", "softmax", "speedup", 100.0),
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


def evaluate(target: Target, all_groups: list[Group]) -> TargetResult:
    """The target's value on its worst matching group (max ratio / min speedup)."""
    scored = [(v, g) for g in all_groups if target.matches(g)
              if (v := target.value(g)) is not None]
    if not scored:
        return TargetResult(target, None, None)
    pick = min if target.metric == "speedup" else max
    value, group = pick(scored, key=lambda pair: pair[0])
    return TargetResult(target, value, group)


# --------------------------------------------------------------------------- baseline
@dataclass
class Delta:
    entry: Entry
    baseline: float
    threshold: float

    @property
    def change(self) -> float:
        """Relative change of the median: +0.25 = 25 % slower than the baseline."""
        return self.entry.median / self.baseline - 1.0

    @property
    def regression(self) -> bool:
        return self.change > self.threshold


def compare_runs(current: list[Entry], baseline: list[Entry], threshold: float
                 ) -> list[Delta]:
    """Per benchmark name (``fullname``) present in both runs, the change of the (scaled)
    median; a regression is slower by more than ``threshold`` (0.2 = 20 %)."""
    base = {e.fullname: e.median for e in baseline}
    return [Delta(e, base[e.fullname], threshold) for e in current
            if e.fullname in base and base[e.fullname] > 0]


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
                     f"{fmt_time(peak.median)}, {threads} thread(s))")
    else:
        peak_text = "not measured in this run (select `gemm` to measure it)"
    commit = data.get("commit_info") or {}
    commit_text = (commit.get("id") or "unknown")[:12] + (" (dirty)" if commit.get("dirty") else "")
    if info.get("numpy_preimported"):
        threads = (f"{threads} (NumPy was imported before the variables were set; "
                   f"threadpoolctl capped its pools)")
    env = info.get("env") or {}
    env_text = ", ".join(f"{k}={v}" for k, v in sorted(env.items())) or "–"
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
        f"| float32 GEMM peak | {peak_text} |",
        f"| Run | {data.get('datetime', '?')}, commit {commit_text}, "
        f"pytest-benchmark {data.get('version', '?')} |",
        "",
    ]


def gflops_note(group: Group | None, peak: Entry | None) -> str:
    if group is None:
        return ""
    parts = []
    for variant in ("vectorized", "torch", "torch_cl"):
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
        "| target | goal | measured | status | where / note |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        t = result.target
        where = ""
        if result.group is not None:
            where = f"{result.group.step} {result.group.label}"
            note = gflops_note(result.group, peak) if t.layer in ("conv2d", "linear") else ""
            if note:
                where += f"; {note}"
        status = "**NOT met**" if result.status == "NOT met" else result.status
        lines.append(f"| {t.title} | {t.goal_text} | {fmt_ratio(result.value)} | {status} "
                     f"| {where} |")
    lines.append("")
    return lines


def summary_section(all_groups: list[Group]) -> list[str]:
    lines = [
        "## Summary",
        "",
        "Medians per group. *loop→vec*: how many times faster the vectorized path is than "
        "the loop. *vec/torch*: vectorized NumPy time over torch's (below 1× NumPy is "
        "faster); *cl*: torch in `channels_last`. † loop timed on a subset and scaled "
        "linearly (see the full table).",
        "",
        "| layer | step | size | dtype | loop | vectorized | torch | torch cl | loop→vec "
        "| vec/torch | vec/torch cl | GFLOP/s vec / torch / cl |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for g in all_groups:
        loop = g.variants.get("loop")
        loop_text = fmt_time(g.median("loop")) + (" †" if loop and loop.scale != 1 else "")
        rates = [g.variants[v].gflops if v in g.variants else None
                 for v in ("vectorized", "torch", "torch_cl")]
        rate_text = (" / ".join(fmt_gflops(r) for r in rates)
                     if any(r is not None for r in rates) else "–")
        lines.append(
            f"| {g.layer} | {g.step} | {g.label} | {g.dtype} | {loop_text} "
            f"| {fmt_time(g.median('vectorized'))} | {fmt_time(g.median('torch'))} "
            f"| {fmt_time(g.median('torch_cl'))} | {fmt_ratio(g.speedup)} "
            f"| {fmt_ratio(g.vs_torch)} | {fmt_ratio(g.vs_torch_cl)} | {rate_text} |"
        )
    scaled = [(g, g.variants["loop"]) for g in all_groups
              if "loop" in g.variants and g.variants["loop"].scale != 1]
    if scaled:
        lines.append("")
        lines += [f"† {g.layer} {g.step} {g.label} {g.dtype}: loop {entry.subset} "
                  f"(time ×{entry.scale:g})  " for g, entry in scaled]
    lines.append("")
    return lines


def detail_section(found: list[Entry], deltas: list[Delta] | None) -> list[str]:
    by_name = {d.entry.fullname: d for d in deltas or []}
    head = "| group | variant | median | IQR | rounds | GFLOP/s | check headroom | note |"
    rule = "|---|---|---|---|---|---|---|---|"
    if deltas is not None:
        head += " vs baseline |"
        rule += "---|"
    lines = ["## Every benchmark", "",
             "Median and IQR scaled to the full batch where the loop ran on a subset; rounds "
             "as timed. *check headroom*: worst error / allowed error of the check against "
             "torch before timing (must be ≤ 1).", "", head, rule]
    order = {g: i for i, g in enumerate(g.name for g in groups(found))}
    ranked = sorted(found, key=lambda e: (order.get(e.group, -1), _variant_rank(e.variant)))
    for e in ranked:
        notes = []
        if e.subset:
            notes.append(f"{e.subset} (×{e.scale:g})")
        if e.loosened:
            notes.append("loosened check (see Method) on " + ", ".join(sorted(e.loosened)))
        headroom = "–" if e.check_headroom is None else f"{e.check_headroom:.2g}"
        row = (f"| {cell(e.display)} | {e.variant} | {fmt_time(e.median)} | {fmt_time(e.iqr)} "
               f"| {e.rounds} | {fmt_gflops(e.gflops)} | {headroom} | {'; '.join(notes)} |")
        if deltas is not None:
            delta = by_name.get(e.fullname)
            if delta is None:
                row += " new |"
            else:
                flag = " **REGRESSION**" if delta.regression else ""
                row += f" {delta.change:+.0%}{flag} |"
        lines.append(row)
    lines.append("")
    return lines


def _variant_rank(variant: str) -> int:
    return VARIANT_ORDER.index(variant) if variant in VARIANT_ORDER else len(VARIANT_ORDER)


def regression_section(deltas: list[Delta], threshold: float, baseline_name: str
                       ) -> list[str]:
    flagged = sorted((d for d in deltas if d.regression), key=lambda d: -d.change)
    lines = ["## Regressions", "",
             f"Against `{baseline_name}`, threshold +{threshold:.0%} on the median "
             f"({len(deltas)} benchmark(s) compared).", ""]
    if not flagged:
        lines += ["None.", ""]
        return lines
    lines += ["| benchmark | baseline | now | change |", "|---|---|---|---|"]
    for d in flagged:
        lines.append(f"| {d.entry.fullname} | {fmt_time(d.baseline)} | "
                     f"{fmt_time(d.entry.median)} | {d.change:+.0%} |")
    lines.append("")
    return lines


METHOD = """## Method

- pytest-benchmark, one group per layer × size × dtype × step; variants `loop`,
  `vectorized` (NumPy), `torch` (stock module, NCHW) and `torch_cl` (the same in
  `channels_last`, torch's fast CPU layout). NumPy works in NHWC.
- Every variant is checked once against the project's torch reference before it is timed
  (`parity_tests.harness.compare`, parity tolerances: output, input gradient, every
  parameter gradient and buffer). Exceptions, stated in `benchmarks/common.py`: float32
  parameter gradients summed over M positions (and the SE-ResNet output, two K = 576
  convolutions deep) get atol = 4·√M·ε·max|ref|, since summation order alone moves them
  ~√M·ε; the SE-ResNet float32 gradients pass through ReLU kinks that round to either side
  in different kernels, so they are compared in relative L2 norm (≤ 1e-2) and the same
  NumPy code path is checked elementwise in float64.
- `fwd`: torch under `no_grad`. `bwd` (softmax): backward only, torch via
  `torch.autograd.grad` on a kept graph. `fwd+bwd`: a forward and a backward with a fixed
  random upstream gradient, torch's `.grad`s reset to None each round.
- Loop paths too slow to time at full size run on the first rows/images and are scaled
  linearly (marked †; the factor is in the table).
- No test asserts a time; CI runs every benchmark once with `--benchmark-disable`.
"""


def render_markdown(
    data: dict[str, Any],
    chart: str | None = None,
    json_name: str | None = None,
    baseline: tuple[str, list[Entry], float] | None = None,
    problems: list[str] | None = None,
) -> tuple[str, list[Delta] | None]:
    """The report's Markdown, and the baseline comparison when ``baseline`` (name, entries,
    threshold) is given. ``problems`` (e.g. failed checks) are listed at the top."""
    found = entries(data)
    all_groups = groups(found)
    peak = gemm_peak(found)
    results = [evaluate(t, all_groups) for t in TARGETS]
    deltas = compare_runs(found, baseline[1], baseline[2]) if baseline else None
    lines = ["# Benchmark report: NumPy layers vs torch on the CPU", ""]
    sources = []
    if json_name:
        sources.append(f"data: `{json_name}`")
    if chart:
        sources.append(f"chart: `{chart}`")
    threads = ((data.get("machine_info") or {}).get("parity") or {}).get("threads", "?")
    lines += [f"{len(found)} benchmarks in {len(all_groups)} groups, **{threads} thread(s)**"
              + (f"; {', '.join(sources)}" if sources else "") + ".", ""]
    if problems:
        lines += ["## Problems in this run", "", *[f"- {p}" for p in problems], ""]
    if chart:
        lines += [f"![vectorized NumPy / torch and loop → vectorized speedups]({chart})", ""]
    lines += machine_section(data, peak)
    if baseline is not None and deltas is not None:
        lines += regression_section(deltas, baseline[2], baseline[0])
    lines += targets_section(results, peak, threads)
    lines += summary_section(all_groups)
    lines += detail_section(found, deltas)
    lines += [METHOD]
    return "\n".join(lines), deltas


# --------------------------------------------------------------------------- chart
def render_chart(data: dict[str, Any], path: Path) -> Path:
    """Three panels sharing the rows (layer · step · size): vectorized / torch in float32,
    the same in float64 (log axis, line at 1×, targets as black ticks), and the loop →
    vectorized speedups (log axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    all_groups = groups(entries(data))
    rows: list[str] = []
    for g in all_groups:
        if g.row_label not in rows:
            rows.append(g.row_label)
    by_row = {(g.row_label, g.dtype): g for g in all_groups}
    threads = ((data.get("machine_info") or {}).get("parity") or {}).get("threads", "?")
    height = max(4.0, 0.42 * len(rows) + 2.2)
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
            for k, (variant, ratio) in enumerate((("torch", g.vs_torch),
                                                  ("torch_cl", g.vs_torch_cl))):
                if ratio is None:
                    continue
                pos = y - bar / 2 + k * bar
                ax.barh(pos, ratio, height=bar, color=colours[variant],
                        edgecolor="#444", linewidth=0.4)
                goal = None
                if dtype == "float32":
                    goal = next((t.goal for t in TARGETS if t.metric == "ratio"
                                 and t.matches(g) and t.against == variant), None)
                _bar_label(ax, ratio, pos, goal, bar)
                values.append(ratio)
        _log_axis(ax, values, floor=0.05)
        ax.axvline(1.0, color="#d62728", linewidth=1.2, linestyle="--")
        ax.set_title(f"vectorized NumPy / torch, {dtype}\n(< 1× NumPy faster; log scale)",
                     fontsize=10)
        ax.grid(axis="x", which="both", alpha=0.25)

    ax = axes[2]
    values = []
    dtype_colours = {"float32": "#2ca02c", "float64": "#98df8a"}
    for y, row in zip(y_positions, rows, strict=True):
        for k, dtype in enumerate(("float32", "float64")):
            g = by_row.get((row, dtype))
            if g is None or g.speedup is None:
                continue
            pos = y - bar / 2 + k * bar
            scaled = g.variants["loop"].scale != 1
            ax.barh(pos, g.speedup, height=bar, color=dtype_colours[dtype],
                    edgecolor="#444", linewidth=0.4, hatch="//" if scaled else None)
            goal = None
            if dtype == "float32":
                goal = next((t.goal for t in TARGETS
                             if t.metric == "speedup" and t.matches(g)), None)
            _bar_label(ax, g.speedup, pos, goal, bar)
            values.append(g.speedup)
    _log_axis(ax, values, floor=0.5)
    ax.axvline(1.0, color="#d62728", linewidth=1.2, linestyle="--")
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
               Line2D([], [], color="#d62728", linestyle="--", label="1× (parity)")]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=9, frameon=False)
    fig.suptitle(f"NumPy layers vs torch, CPU, {threads} thread(s) — medians", fontsize=12)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _bar_label(ax: Any, value: float, pos: float, goal: float | None, bar: float) -> None:
    """The value at the bar's end and, if the bar has a target, a black tick at the goal;
    the label moves past the tick when the two would overlap."""
    x = value
    if goal is not None:
        ax.plot([goal, goal], [pos - bar / 2, pos + bar / 2], color="black", linewidth=2.2)
        if value <= goal <= value * 1.6:
            x = goal
    ax.text(x * 1.05, pos, fmt_ratio(value), va="center", fontsize=7)


def _log_axis(ax: Any, values: list[float], floor: float) -> None:
    ax.set_xscale("log")
    if values:
        low = min(min(values) / 1.6, floor)
        high = max(max(values) * 2.2, 2.0)
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
    baseline: tuple[str, list[Entry], float] | None = None,
    chart: bool = True,
    problems: list[str] | None = None,
) -> tuple[Path, list[Delta] | None]:
    """Write ``report.md`` (and ``report.png``) into ``out``; return the Markdown path and
    the baseline comparison."""
    out.mkdir(parents=True, exist_ok=True)
    chart_name = None
    if chart:
        render_chart(data, out / "report.png")
        chart_name = "report.png"
    text, deltas = render_markdown(data, chart_name, json_name, baseline, problems)
    path = out / "report.md"
    path.write_text(text)
    return path, deltas
