"""Metric sinks for training: ``metrics.jsonl`` always, TensorBoard and W&B when configured,
and the ``turnrl_train_step_end`` hook so plugins see every iteration too.

Only the main rank writes. JSONL lines are flushed per iteration, so a killed run keeps every
iteration it finished.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class MetricsLogger:
    def __init__(self, run_dir: Path, *, tensorboard: bool = True,
                 wandb_project: str | None = None, enabled: bool = True,
                 host: Any = None, config: dict[str, Any] | None = None) -> None:
        self.enabled = enabled
        self.host = host
        self._tb = None
        self._wandb = None
        self._jsonl = None
        if not enabled:
            return
        run_dir.mkdir(parents=True, exist_ok=True)
        self._jsonl = (run_dir / "metrics.jsonl").open("a", encoding="utf-8")
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(run_dir / "tb"))
        if wandb_project:
            import wandb  # optional dependency, only when asked for

            self._wandb = wandb.init(project=wandb_project, dir=str(run_dir), config=config)

    def log(self, step: int, metrics: dict[str, float], *, phase: str = "rl") -> None:
        if not self.enabled:
            return
        record = {"phase": phase, "step": step, "time": time.time(), **metrics}
        assert self._jsonl is not None
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        if self._tb is not None:
            for k, v in metrics.items():
                self._tb.add_scalar(f"{phase}/{k}", v, step)
            self._tb.flush()
        if self._wandb is not None:
            self._wandb.log({f"{phase}/{k}": v for k, v in metrics.items()}, step=step)
        if self.host is not None and phase == "rl":
            try:
                self.host.pm.hook.turnrl_train_step_end(step=step, metrics=dict(metrics))
            except Exception:  # a logger plugin's bug must not stop training
                log.exception("a turnrl_train_step_end observer failed at step %d", step)

    def close(self) -> None:
        """Flush and close every sink; idempotent (also called when a run fails)."""
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self._wandb is not None:
            self._wandb.finish()
            self._wandb = None
