"""Rollout-vs-trainer log-prob mismatch of finished training runs, side by side.

    python benchmarks/logprob_mismatch.py runs/quickstart runs/quickstart_vllm

Reads each run's ``metrics.jsonl`` (the trainer logs ``mismatch/*`` every RL iteration: the
rollout engine's log-prob of each sampled response token minus the trainer's recomputed one,
before the update) and prints, per run: the backend, iterations measured, tokens, mean of the
per-iteration mean ``|Δ|``, the largest ``|Δ|`` seen, and the share of tokens over the
threshold; then the ratio of the mean ``|Δ|`` of each run to the first's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any


def summarize(run_dir: Path) -> dict[str, Any]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
               if line.strip()]
    rl = [r for r in records if r.get("phase") == "rl" and r.get("mismatch/tokens")]
    if not rl:
        raise SystemExit(f"{run_dir}: no RL iteration with mismatch/* metrics")
    config_file = run_dir / "config.yaml"
    backend = "?"
    if config_file.exists():
        import yaml

        backend = (yaml.safe_load(config_file.read_text()).get("policy") or {}).get("backend", "?")
    tokens = sum(r["mismatch/tokens"] for r in rl)
    return {"run": str(run_dir), "backend": backend, "iterations": len(rl), "tokens": tokens,
            "mean_abs": statistics.fmean(r["mismatch/mean_abs"] for r in rl),
            "max_abs": max(r["mismatch/max_abs"] for r in rl),
            "frac_over": sum(r["mismatch/frac_over"] * r["mismatch/tokens"] for r in rl) / tokens,
            "mean": statistics.fmean(r["mismatch/mean"] for r in rl)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    args = ap.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (no GPU); fp32 trainer")
    rows = [summarize(r) for r in args.runs]
    for s in rows:
        print(f"{s['backend']:>7} vs trainer: {s['iterations']} iterations, {s['tokens']:.0f} "
              f"tokens | mean |d| {s['mean_abs']:.2e} | max |d| {s['max_abs']:.2e} | "
              f"over threshold {s['frac_over']:.4f} | mean d {s['mean']:+.1e}  ({s['run']})")
    base = rows[0]
    for s in rows[1:]:
        print(f"mean |d| ratio {s['backend']}/{base['backend']}: "
              f"{s['mean_abs'] / max(base['mean_abs'], 1e-30):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
