"""Distributed checkpoints (DCP) that survive ``kill -9``.

A checkpoint is a directory ``RUN/checkpoints/step_000012`` holding the DCP shards of model and
optimizer plus ``extra_rank{r}.pt`` (scheduler, RNG states and data position per rank). It is
written under a temporary name and renamed when complete, and ``RUN/checkpoints/latest`` names the
last complete one, so a kill at any instant leaves either the old or the new checkpoint — never a
half-written one that resume would pick up.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from turnrl.trainers.fsdp import DistInfo


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextlib.contextmanager
def _quiet_single_process(info: DistInfo) -> Iterator[None]:
    """DCP warns on every single-process save/load ("torch.distributed is disabled ...,
    assuming the intent is to save in a single process") even when ``no_dist=True`` says so;
    a user cannot act on it, so a single-process run does not show it."""
    with warnings.catch_warnings():
        if not info.initialised:
            warnings.filterwarnings("ignore", message="torch.distributed is disabled",
                                    category=UserWarning)
        yield


def _barrier(info: DistInfo) -> None:
    if info.initialised:
        dist.barrier()


def save(root: Path, step: int, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
         scheduler: Any, info: DistInfo, extra: dict[str, Any] | None = None,
         keep: int = 2) -> Path:
    """Write checkpoint ``step`` (collective: every rank calls it) and prune old ones."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, get_state_dict

    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step_{step:06d}"
    tmp = root / f".tmp_step_{step:06d}"
    if info.is_main and tmp.exists():
        shutil.rmtree(tmp)
    _barrier(info)
    # A fresh optimizer has no state, and get_state_dict would create it with a zero-gradient
    # step (Adam's step count becomes 1), so checkpointing would change training. Save the
    # model alone then; resume starts that optimizer fresh, exactly like the original run.
    with_optim = bool(optimizer.state)
    if with_optim:
        model_sd, optim_sd = get_state_dict(model, optimizer)
        state = {"model": model_sd, "optim": optim_sd}
    else:
        state = {"model": get_model_state_dict(model)}
    with _quiet_single_process(info):
        dcp.save(state, checkpoint_id=str(tmp), no_dist=not info.initialised)
    torch.save({"scheduler": scheduler.state_dict(), "rng": rng_state(), "step": step,
                "with_optim": with_optim, "extra": extra or {}},
               tmp / f"extra_rank{info.rank}.pt")
    _barrier(info)
    if info.is_main:
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        latest_tmp = root / "latest.tmp"
        latest_tmp.write_text(final.name)
        latest_tmp.replace(root / "latest")
        done = sorted(p for p in root.glob("step_*") if p.is_dir())
        for old in done[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    _barrier(info)
    return final


def latest(root: Path) -> Path | None:
    """The last complete checkpoint under ``root``, or None."""
    marker = root / "latest"
    if not marker.exists():
        return None
    path = root / marker.read_text().strip()
    return path if path.is_dir() else None


def peek(path: Path) -> dict[str, Any]:
    """The ``extra`` dict a checkpoint was saved with (read before loading any weights)."""
    return torch.load(path / "extra_rank0.pt", weights_only=False)["extra"]


def load(path: Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
         scheduler: Any, info: DistInfo) -> dict[str, Any]:
    """Restore everything ``save`` wrote; returns ``{"step", "extra"}`` for the caller."""
    rank_file = path / f"extra_rank{info.rank}.pt"
    if not rank_file.exists():  # resumed on a different world size: fall back to rank 0's
        rank_file = path / "extra_rank0.pt"
    extra = torch.load(rank_file, weights_only=False)
    if extra.get("with_optim", True):
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

        model_sd, optim_sd = get_state_dict(model, optimizer)
        state = {"model": model_sd, "optim": optim_sd}
        with _quiet_single_process(info):
            dcp.load(state, checkpoint_id=str(path), no_dist=not info.initialised)
        set_state_dict(model, optimizer, model_state_dict=state["model"],
                       optim_state_dict=state["optim"])
    else:
        load_weights(path, model, info)
    scheduler.load_state_dict(extra["scheduler"])
    set_rng_state(extra["rng"])
    return {"step": int(extra["step"]), "extra": extra["extra"]}


def save_weights(path: Path, model: torch.nn.Module, info: DistInfo) -> None:
    """Model weights only (DCP), e.g. the frozen reference policy of the KL penalty."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    with _quiet_single_process(info):
        dcp.save({"model": get_model_state_dict(model)}, checkpoint_id=str(path),
                 no_dist=not info.initialised)
    _barrier(info)


def load_weights(path: Path, model: torch.nn.Module, info: DistInfo) -> None:
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, set_model_state_dict

    state = {"model": get_model_state_dict(model)}
    with _quiet_single_process(info):
        dcp.load(state, checkpoint_id=str(path), no_dist=not info.initialised)
    set_model_state_dict(model, state["model"])
