"""The estimator study's jobs: one ``turnrl train`` subprocess each, when a finished run can be
skipped, resumed or extended, and running them a few at a time with rich progress.

Used by ``benchmarks/estimators.py`` (which plans the jobs and reports on them); kept apart so
that the study's plan and report stay readable and each part stays small.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

@dataclass
class Job:
    """One ``turnrl train`` subprocess."""

    name: str
    run_dir: Path
    args: list[str]
    iterations: int
    after: Job | None = None
    status: str = "pending"  # pending, running, done, skipped, failed
    proc: subprocess.Popen[bytes] | None = None
    log_offset: int = 0
    progress: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "turnrl.cli", "train", *self.args]

    @property
    def stamp(self) -> dict[str, Any]:
        """What makes two runs the same: the command and the config it resolves to (so an edit
        of the config file, not only of the arguments, invalidates a finished run)."""
        from turnrl.core.config import dump_config, load_config
        from turnrl.trainers.config import TrainConfig

        cfg = load_config(self.args[0], [a for a in self.args[1:] if "=" in a],
                          model=TrainConfig)
        return {"args": self.args, "config": json.loads(json.dumps(dict(dump_config(cfg))))}

    def same_as_before(self) -> bool:
        """The config a finished run resolved to is this job's (the arguments may differ and
        still resolve the same: an override that later moved into the config file). An SFT-only
        job does not read the ``advantage`` section: a quickstart that changes its estimator
        keeps its SFT checkpoints (and so every RL run forked from them)."""
        path = self.run_dir / "study_job.json"
        return path.exists() and self._used(json.loads(path.read_text())["config"]) \
            == self._used(self.stamp["config"])

    def _used(self, config: dict[str, Any]) -> dict[str, Any]:
        sft_only = self.after is None and self.iterations == 0
        return {k: v for k, v in config.items() if not (sft_only and k == "advantage")}

    def finished_before(self) -> bool:
        """A finished run of exactly this command and config is already in ``run_dir``."""
        return (self.run_dir / "summary.json").exists() and self.same_as_before()



_ITER = re.compile(rb"^iter (\d+):", re.M)
_STAGE = re.compile(rb"^(eval \w+|sft:)", re.M)


def poll_log(job: Job) -> None:
    """Read what the job printed since the last poll: the latest iteration and stage."""
    log = job.run_dir / "study_job.log"
    if not log.exists():
        return
    with log.open("rb") as f:
        f.seek(job.log_offset)
        chunk = f.read()
    cut = chunk.rfind(b"\n") + 1  # only whole lines
    job.log_offset += cut
    chunk = chunk[:cut]
    if its := _ITER.findall(chunk):
        job.progress["iteration"] = int(its[-1])
    if stages := _STAGE.findall(chunk):
        job.progress["stage"] = stages[-1].decode()


def shorter_run(job: Job) -> Path | None:
    """A run of the same setting and seed in a shorter study (``<setting>-itN`` or the
    quickstart-length ``<setting>`` beside this job's dir, fewer iterations) whose config is
    this job's but for the RL length and which has a checkpoint: the first N iterations of this
    job (the LR is constant after warm-up and iteration k's tasks and seeds depend on k only),
    so it is extended, not redone."""
    setting = re.sub(r"-it\d+$", "", job.run_dir.parent.name)
    mine = dict(job.stamp["config"])
    best: tuple[int, Path] | None = None
    root = job.run_dir.parent.parent
    for other in [root / setting / job.run_dir.name,
                  *root.glob(f"{setting}-it*/{job.run_dir.name}")]:
        stamp_file, latest = other / "study_job.json", other / "checkpoints" / "latest"
        if other == job.run_dir or not (stamp_file.exists() and latest.exists()):
            continue
        theirs = dict(json.loads(stamp_file.read_text())["config"])
        n = theirs["trainer"]["iterations"]
        same = {**theirs, "trainer": {**theirs["trainer"], "iterations": 0}} == \
            {**mine, "trainer": {**mine["trainer"], "iterations": 0}}
        if same and n < job.iterations and (best is None or n > best[0]):
            best = (n, other)
    return None if best is None else best[1]


def start(job: Job) -> None:
    """Launch the job; an unfinished attempt of the same command resumes from its checkpoint,
    a shorter study's run of the same setting is extended (``shorter_run``), anything else in
    the run dir (another command's run, nothing to resume) is removed."""
    resumable = job.same_as_before() and (job.run_dir / "checkpoints" / "latest").exists()
    if job.run_dir.exists() and not resumable:
        shutil.rmtree(job.run_dir)
    prior: dict[str, Any] = {}
    if not resumable and (source := shorter_run(job)) is not None:
        shutil.copytree(source, job.run_dir, ignore=shutil.ignore_patterns(
            "summary.json", "study_job.*", "learning_curve.png", "config.yaml"))
        done = json.loads((source / "summary.json").read_text()) \
            if (source / "summary.json").exists() else {}
        prior = {"extends": str(source), "prior_wall_s": done.get("wall_time_s", 0.0)}
    job.run_dir.mkdir(parents=True, exist_ok=True)
    (job.run_dir / "study_job.json").write_text(json.dumps(job.stamp | prior, indent=1))
    log = (job.run_dir / "study_job.log").open("ab")
    job.log_offset = log.tell()
    job.proc = subprocess.Popen(job.command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    job.status = "running"


def run_jobs(jobs: list[Job], parallel: int) -> None:
    """Run ``jobs`` ``parallel`` at a time (dependencies first) with a rich progress display."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    for job in jobs:  # jobs come before their dependents
        if job.finished_before() and (job.after is None or job.after.status == "skipped"):
            job.status = "skipped"  # (an RL run of a redone SFT run is redone too)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[note]}"), TimeElapsedColumn())
    with Progress(*columns, refresh_per_second=2) as progress:
        done_before = sum(j.status == "skipped" for j in jobs)
        overall = progress.add_task("study", total=len(jobs), completed=done_before,
                                    note=f"{done_before} already done")
        bars: dict[str, Any] = {}
        while True:
            running = [j for j in jobs if j.status == "running"]
            for job in running:
                poll_log(job)
                assert job.proc is not None
                code = job.proc.poll()
                note = job.progress.get("stage", "")
                progress.update(bars[job.name], completed=job.progress.get("iteration", 0),
                                note=note)
                if code is None:
                    continue
                job.status = "done" if code == 0 else "failed"
                progress.remove_task(bars.pop(job.name))
                progress.advance(overall)
                if code != 0:
                    progress.console.print(f"[red]failed[/red] {job.name} (exit {code}); log: "
                                           f"{job.run_dir / 'study_job.log'}")
            for job in jobs:  # a job whose SFT failed cannot run
                if job.status == "pending" and job.after is not None \
                        and job.after.status == "failed":
                    job.status = "failed"
                    progress.advance(overall)
            ready = [j for j in jobs if j.status == "pending"
                     and (j.after is None or j.after.status in ("done", "skipped"))]
            free = parallel - sum(j.status == "running" for j in jobs)
            for job in ready[:max(free, 0)]:
                start(job)
                bars[job.name] = progress.add_task(job.name, total=max(job.iterations, 1),
                                                   note="starting")
            if not any(j.status in ("pending", "running") for j in jobs):
                break
            time.sleep(1.0)
