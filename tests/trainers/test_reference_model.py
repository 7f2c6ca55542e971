"""The KL penalty's frozen reference: same outputs as the policy it copies, independent weights,
the run's RNG untouched, and the saved copy reused on resume."""

from __future__ import annotations

from pathlib import Path

import torch

from tests.trainers.helpers import tiny_lm
from turnrl.core.config import load_config
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.fsdp import DistInfo, LogProbModel
from turnrl.trainers.recipe import make_reference

ALONE = DistInfo(0, 1, torch.device("cpu"), False)


def _cfg(kl: float) -> TrainConfig:
    return load_config(None, [f"loss.kl_coef={kl}", "policy.backend=hf", "policy.model=tiny"],
                       model=TrainConfig)


def _logp(model: LogProbModel) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 40, (2, 9), generator=g)
    ones = torch.ones_like(ids)
    return model(ids, ones, torch.roll(ids, -1, 1), ones)[0]


def test_no_reference_without_the_kl_penalty(tmp_path: Path) -> None:
    policy = LogProbModel(tiny_lm(seed=1))
    assert make_reference(policy, _cfg(0.0), ALONE, tmp_path / "ref", resumed=False) is None
    assert not (tmp_path / "ref").exists()


def test_reference_copies_the_policy_and_stays_frozen(tmp_path: Path) -> None:
    policy = LogProbModel(tiny_lm(seed=1))
    rng_before = torch.random.get_rng_state()
    ref = make_reference(policy, _cfg(0.1), ALONE, tmp_path / "ref", resumed=False)
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # run's stream untouched
    with torch.no_grad():
        torch.testing.assert_close(_logp(ref), _logp(policy), rtol=0, atol=0)
        for p in policy.parameters():  # the policy moves on; the reference must not
            p.add_(0.05)
        assert not torch.allclose(_logp(ref), _logp(policy))
    assert not any(p.requires_grad for p in ref.parameters())
    assert not ref.training


def test_resumed_run_reloads_the_saved_reference(tmp_path: Path) -> None:
    original = LogProbModel(tiny_lm(seed=1))
    make_reference(original, _cfg(0.1), ALONE, tmp_path / "ref", resumed=False)
    later = LogProbModel(tiny_lm(seed=2))  # the policy at resume time has other weights
    ref = make_reference(later, _cfg(0.1), ALONE, tmp_path / "ref", resumed=True)
    with torch.no_grad():
        torch.testing.assert_close(_logp(ref), _logp(original), rtol=0, atol=0)
