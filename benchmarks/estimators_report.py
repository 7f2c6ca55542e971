"""The estimator study's numbers, table, plots and quickstart claims, from finished run dirs.

Used by ``benchmarks/estimators.py`` (which runs the training jobs); kept apart so that the
statistics can be re-derived from any output directory (``estimators.py --report-only``) and
tested without training anything.

Definitions (also printed under the table):

* held-out success of a run = the trainer's own evaluation: the mean over the eval seeds of
  the won fraction of the fixed panel (``summary.json``);
* the learning curve = held-out success at RL iteration 0 (the shared post-SFT checkpoint) and
  every ``trainer.eval_every`` iterations (``metrics.jsonl`` ``eval/success``);
* AUC = the area under that curve (trapezoids) divided by the number of iterations: the
  average held-out success over training, in [0, 1];
* mean ± std over training seeds uses the sample std (ddof=1);
* "vs GRPO" = the paired difference to GRPO with the same setting and the same seed (the same
  SFT checkpoint), mean ± std over seeds: the SFT start's seed-to-seed spread cancels;
* "RL > SFT" counts the seeds where post-RL beats post-SFT by more than the sum of the two
  eval-seed stds (the quickstart test's criterion).

The measure is held-out success by default; an environment where success is rare for a tiny
model (WebShop: a perfect score needs the exact product with every option) is studied on its
held-out mean return instead (``METRICS["return"]``: WebShop's task score in [0, 1]), the same
definitions otherwise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Metric:
    """Where a run keeps one held-out measure: its summary fields and its curve's metric."""

    mean_key: str
    std_key: str
    curve_key: str
    label: str


METRICS = {
    "success": Metric("mean", "std", "eval/success", "held-out success"),
    "return": Metric("score_mean", "score_std", "eval/return", "held-out return (task score)"),
}


@dataclass(frozen=True)
class RunResult:
    """One finished training run (one estimator setting, one training seed)."""

    seed: int
    post_sft: float
    post_sft_std: float
    post_rl: float
    post_rl_std: float
    curve: list[tuple[int, float]]  # (iteration, held-out success), iteration 0 = post-SFT
    train_success: list[tuple[int, float]]  # (iteration, training success at temperature 1)
    wall_time_s: float
    iterations: int
    # the software of each process that trained it (summary.json ``versions``: the SFT run it
    # forked from, then each part); empty for runs from before turnrl recorded them
    versions: list[dict[str, str]] = field(default_factory=list)

    @property
    def auc(self) -> float:
        return area_under(self.curve, self.iterations)

    @property
    def rl_beats_sft(self) -> bool:
        return self.post_rl - self.post_sft > self.post_sft_std + self.post_rl_std


def area_under(curve: Sequence[tuple[int, float]], iterations: int) -> float:
    """Trapezoid area under ``curve`` over [0, iterations], divided by ``iterations``."""
    if iterations <= 0 or not curve:
        return curve[-1][1] if curve else math.nan
    xs = np.array([x for x, _ in curve], dtype=float)
    ys = np.array([y for _, y in curve], dtype=float)
    return float(np.sum((xs[1:] - xs[:-1]) * (ys[1:] + ys[:-1]) / 2) / iterations)


def load_run(run_dir: Path, seed: int, metric: str = "success") -> RunResult:
    """A finished run's numbers (``summary.json`` + ``metrics.jsonl``; on a resumed run the
    last record of an iteration wins), measured by ``METRICS[metric]``."""
    m = METRICS[metric]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    success = summary["success"]
    sft = success.get("post_sft") or success.get("initial")
    final = success.get("post_rl") or success.get("final")
    records: dict[int, dict[str, Any]] = {}
    metrics = run_dir / "metrics.jsonl"
    for line in metrics.read_text(encoding="utf-8").splitlines() if metrics.exists() else []:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line of a killed attempt
        if rec.get("phase") == "rl":
            records[int(rec["step"])] = rec
    iterations = int(summary.get("iterations", max(records, default=0)))
    curve = [(0, float(sft[m.mean_key]))]
    curve += [(it, float(r[m.curve_key])) for it, r in sorted(records.items())
              if m.curve_key in r]
    if curve[-1][0] != iterations:
        curve.append((iterations, float(final[m.mean_key])))
    return RunResult(seed=seed, post_sft=float(sft[m.mean_key]),
                     post_sft_std=float(sft[m.std_key]), post_rl=float(final[m.mean_key]),
                     post_rl_std=float(final[m.std_key]), curve=curve,
                     train_success=[(it, float(r["success"])) for it, r in sorted(records.items())],
                     wall_time_s=float(summary.get("wall_time_s", math.nan)),
                     iterations=iterations, versions=list(summary.get("versions", [])))


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    arr = np.asarray(list(values), dtype=float)
    if len(arr) == 0:
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


@dataclass
class Row:
    """One (estimator, setting) over its training seeds."""

    estimator: str
    setting: str
    params: dict[str, Any]
    source: str
    runs: list[RunResult]
    quickstart: bool = False
    vs_grpo: tuple[float, float] | None = None
    vs_grpo_seeds: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    def stat(self, what: str) -> tuple[float, float]:
        return mean_std(getattr(r, what) for r in self.runs)

    @property
    def wins(self) -> int:
        return sum(r.rl_beats_sft for r in self.runs)

    def as_dict(self) -> dict[str, Any]:
        out = {"estimator": self.estimator, "setting": self.setting, "params": self.params,
               "source": self.source, "quickstart": self.quickstart, "seeds": self.seeds,
               "rl_beats_sft": self.wins,
               "runs": [asdict(r) | {"auc": r.auc} for r in self.runs]}
        for what in ("post_sft", "post_rl", "auc", "wall_time_s"):
            out[what] = dict(zip(("mean", "std"), self.stat(what), strict=True))
        out |= self.extra
        if self.vs_grpo is not None:
            out["vs_grpo"] = {"mean": self.vs_grpo[0], "std": self.vs_grpo[1],
                              "seeds": self.vs_grpo_seeds}
        return out


def pair_with_grpo(rows: list[Row]) -> None:
    """Fill ``vs_grpo``: post-RL minus GRPO's post-RL, same setting, same seed."""
    grpo = {row.setting: {r.seed: r.post_rl for r in row.runs}
            for row in rows if row.estimator == "grpo"}
    for row in rows:
        base = grpo.get(row.setting)
        if base is None or row.estimator == "grpo":
            continue
        diffs = [r.post_rl - base[r.seed] for r in row.runs if r.seed in base]
        if diffs:
            row.vs_grpo, row.vs_grpo_seeds = mean_std(diffs), len(diffs)


def fmt(pair: tuple[float, float], digits: int = 3, signed: bool = False) -> str:
    m, s = pair
    if math.isnan(m):
        return "-"
    return f"{m:+.{digits}f} ± {s:.{digits}f}" if signed else f"{m:.{digits}f} ± {s:.{digits}f}"


COLUMNS = ("estimator", "setting", "seeds", "post-SFT", "post-RL", "AUC", "vs GRPO (paired)",
           "RL > SFT", "wall s/run")


def table_cells(row: Row) -> list[str]:
    name = row.estimator + (" *" if row.quickstart else "")
    vs = fmt(row.vs_grpo, signed=True) if row.vs_grpo is not None else "-"
    wall = row.stat("wall_time_s")[0]
    return [name, row.setting, str(len(row.runs)), fmt(row.stat("post_sft")),
            fmt(row.stat("post_rl")), fmt(row.stat("auc")), vs,
            f"{row.wins}/{len(row.runs)}", f"{wall:.0f}" if not math.isnan(wall) else "-"]


def markdown_table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(table_cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def print_table(rows: Sequence[Row], title: str, measure: str = "held-out success") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("estimator", "setting") else "right")
    for row in rows:
        table.add_row(*table_cells(row))
    console = Console(width=170)
    console.print(table)
    console.print(f"{measure} (mean over eval seeds per run), mean ± std (ddof=1) over "
                  f"training seeds; AUC = mean {measure} over RL iterations; vs GRPO = "
                  "paired post-RL difference, same setting and seed; RL > SFT = seeds where "
                  "the gain exceeds the two eval-seed stds; * = the shipped quickstart recipe")


# ------------------------------------------------------------------------------ plots
ESTIMATOR_COLOURS = {"grpo": "tab:gray", "rloo": "tab:brown", "gigpo": "tab:blue",
                     "hgpo": "tab:green", "salt": "tab:purple", "trloo": "tab:orange"}


def _figure(width: float, height: float, panels: int) -> tuple[Any, list[Any], Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), constrained_layout=True)
    canvas = FigureCanvasAgg(fig)
    axes = fig.subplots(1, panels, sharey=True, squeeze=False)[0]
    return fig, list(axes), canvas


def plot_curves(rows: Sequence[Row], settings: Sequence[str], title: str, out: Path,
                measure: str = "held-out success", gain: bool = False) -> Path:
    """Held-out success vs RL iteration, one line per estimator (mean over training seeds)
    with a ±std band, one panel per setting. ``gain``: each run minus its own post-SFT value,
    so the spread of the SFT starts (shared by every estimator of a seed) leaves the bands."""
    fig, axes, canvas = _figure(6.0 * len(settings), 4.2, len(settings))
    for ax, setting in zip(axes, settings, strict=True):
        for row in (r for r in rows if r.setting == setting and r.runs):
            xs = sorted({x for run in row.runs for x, _ in run.curve})
            ys = np.array([[np.interp(x, *zip(*run.curve, strict=True))
                            - (run.post_sft if gain else 0.0) for x in xs] for run in row.runs])
            mean, std = ys.mean(0), (ys.std(0, ddof=1) if len(ys) > 1 else np.zeros(len(xs)))
            colour = ESTIMATOR_COLOURS.get(row.estimator)
            label = f"{row.estimator}{' *' if row.quickstart else ''} (n={len(row.runs)})"
            ax.plot(xs, mean, color=colour, label=label, marker="o", markersize=3)
            ax.fill_between(xs, mean - std, mean + std, color=colour, alpha=0.15, linewidth=0)
        ax.set_title(f"{setting} setting")
        ax.set_xlabel("RL iteration (0 = the shared post-SFT checkpoint)")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:  # a setting with no finished run: no legend
            ax.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel(f"{measure}{' gain over post-SFT' if gain else ''}\n"
                       "(mean ± std over training seeds)")
    fig.suptitle(title)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.print_png(str(out))
    return out


def plot_final(rows: Sequence[Row], settings: Sequence[str], title: str, out: Path,
               measure: str = "held-out success") -> Path:
    """Post-RL held-out success per training seed as points (colour = seed, so points of the
    same SFT start line up across estimators), the mean as a bar, post-SFT as grey ticks."""
    from matplotlib import colormaps

    fig, axes, canvas = _figure(6.0 * len(settings), 4.2, len(settings))
    cmap = colormaps["viridis"]
    all_seeds = sorted({r.seed for row in rows for r in row.runs})
    colour_of = {s: cmap(i / max(len(all_seeds) - 1, 1)) for i, s in enumerate(all_seeds)}
    for ax, setting in zip(axes, settings, strict=True):
        chosen = [r for r in rows if r.setting == setting and r.runs]
        for x, row in enumerate(chosen):
            for k, run in enumerate(row.runs):
                dx = (k - (len(row.runs) - 1) / 2) * 0.08
                ax.scatter(x + dx, run.post_rl, color=colour_of[run.seed], s=22, zorder=3)
                ax.scatter(x + dx, run.post_sft, color="0.6", marker="_", s=60, zorder=2)
            ax.hlines(row.stat("post_rl")[0], x - 0.3, x + 0.3, color="black", linewidth=1.5)
        ax.set_xticks(range(len(chosen)),
                      [r.estimator + (" *" if r.quickstart else "") for r in chosen])
        ax.set_title(f"{setting} setting")
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_ylabel(f"{measure} after RL")
    fig.supxlabel("dots: training seeds (colour = seed = SFT checkpoint); black bar: mean; "
                  f"grey ticks: that seed's post-SFT {measure.split(' (')[0]}", fontsize=8)
    handles = [axes[0].scatter([], [], color=colour_of[s], s=22, label=f"seed {s}")
               for s in all_seeds]
    axes[-1].legend(handles=handles, fontsize=8, loc="lower right")
    fig.suptitle(title)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.print_png(str(out))
    return out


# ------------------------------------------------------------------------------ claims
CLAIM_BEGIN = "# >>> measured by benchmarks/estimators.py"
CLAIM_END = "# <<< end of measured block"


def claim_lines(env: str, row: dict[str, Any], versions: dict[str, str], machine: str,
                date: str, measure: str = "held-out success") -> list[str]:
    """The quickstart header's measured block, from a results row (``Row.as_dict``)."""
    runs = row["runs"]
    seeds = ", ".join(f"{r['seed']}: {r['post_sft']:.3f} -> {r['post_rl']:.3f}" for r in runs)
    gains = mean_std(r["post_rl"] - r["post_sft"] for r in runs)
    pkgs = measured_versions(runs, versions)
    return [
        f"{CLAIM_BEGIN} --env {env} (regenerate: --write-claims; do not edit by hand)",
        f"# {measure}, mean ± std over {len(runs)} training seeds (each run: mean of "
        f"its eval seeds):",
        f"#   post-SFT {fmt(claim_pair(row, 'post_sft'))} -> post-RL "
        f"{fmt(claim_pair(row, 'post_rl'))}, gain {fmt(gains, signed=True)}; RL beat SFT "
        f"beyond the eval-seed spread on {row['rl_beats_sft']}/{len(runs)} seeds",
        f"#   per seed (post-SFT -> post-RL): {seeds}",
        f"#   wall time per seed {row['wall_time_s']['mean'] + row.get('sft_wall_time_s', 0):.0f} s"
        f" (mean: SFT {row.get('sft_wall_time_s', 0):.0f} s + RL "
        f"{row['wall_time_s']['mean']:.0f} s; {machine}), {date}",
        f"#   packages: {pkgs}",
        CLAIM_END,
    ]


def measured_versions(runs: Sequence[dict[str, Any]], report_time: dict[str, str]) -> str:
    """The versions the runs were *trained* with (every distinct value of each package over
    the runs and their parts, in order), e.g. ``torch 2.13.0+cpu, turnrl_commit 1a2b3c4``.
    Runs from before turnrl recorded versions fall back to ``report_time``'s, labelled so."""
    recorded = [v for r in runs for v in r.get("versions", [])]
    missing = sum(not r.get("versions") for r in runs)
    if missing:
        pkgs = ", ".join(f"{k} {v}" for k, v in report_time.items())
        return (f"{pkgs} (at report time: {missing} of {len(runs)} runs predate turnrl's "
                "version records)")
    values: dict[str, list[str]] = {}
    for entry in recorded:
        for key, value in entry.items():
            if value not in values.setdefault(key, []):
                values[key].append(value)
    return ", ".join(f"{k} {' / '.join(v)}" for k, v in values.items())


def claim_pair(row: dict[str, Any], what: str) -> tuple[float, float]:
    return row[what]["mean"], row[what]["std"]


def replace_block(text: str, lines: Sequence[str]) -> str:
    """``text`` with its measured block replaced by ``lines`` (inserted after the opening
    comment lines when there is none yet)."""
    src = text.splitlines()
    if CLAIM_BEGIN in text:
        start = next(i for i, s in enumerate(src) if s.startswith(CLAIM_BEGIN))
        end = next(i for i, s in enumerate(src) if s.startswith(CLAIM_END))
        src[start:end + 1] = list(lines)
    else:
        first_blank = next((i for i, s in enumerate(src) if s.strip() == "#"), 1)
        src[first_blank:first_blank] = ["#", *lines]
    return "\n".join(src) + "\n"


def read_block(text: str) -> list[str]:
    src = text.splitlines()
    start = next(i for i, s in enumerate(src) if s.startswith(CLAIM_BEGIN))
    end = next(i for i, s in enumerate(src) if s.startswith(CLAIM_END))
    return src[start:end + 1]
