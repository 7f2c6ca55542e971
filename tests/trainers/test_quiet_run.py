"""A single-process run shows no warning a user cannot act on (issue 11, "done means")."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from tests.trainers.helpers import tiny_lm
from turnrl.trainers import checkpoint
from turnrl.trainers.fsdp import init_distributed


def test_single_process_checkpoints_do_not_warn(tmp_path: Path) -> None:
    info = init_distributed()
    model = tiny_lm()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checkpoint.save(tmp_path, 1, model=model, optimizer=optimizer, scheduler=scheduler,
                        info=info)
        checkpoint.load(checkpoint.latest(tmp_path), model=model, optimizer=optimizer,
                        scheduler=scheduler, info=info)
        checkpoint.save_weights(tmp_path / "w", model, info)
        checkpoint.load_weights(tmp_path / "w", model, info)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "torch.distributed is disabled" in m], messages
