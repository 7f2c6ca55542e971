"""Every shipped task config parses into ``TrainConfig`` and opens with the command to run it;
bad trainer values fail with one line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnrl.core.config import ConfigError, load_config
from turnrl.trainers.config import TrainConfig

TASKS = sorted((Path(__file__).resolve().parents[2] / "turnrl" / "tasks").glob("*.yaml"))


def test_there_are_shipped_configs() -> None:
    names = {p.name for p in TASKS}
    assert "quickstart.yaml" in names
    assert len(names) >= 4


@pytest.mark.parametrize("path", TASKS, ids=lambda p: p.name)
def test_shipped_config_parses_and_names_its_command(path: Path) -> None:
    # field validation only; tests/core/test_shipped_configs.py resolves the references
    cfg = load_config(path, model=TrainConfig, check_references=False)
    assert cfg.policy.backend in ("hf", "vllm")  # the in-process backends the trainer feeds
    first = path.read_text().splitlines()[0]
    assert first.startswith("# ")
    assert "turnrl" in first
    assert path.name in first


def test_quickstart_is_the_cpu_hgpo_recipe() -> None:
    cfg = load_config(TASKS[[p.name for p in TASKS].index("quickstart.yaml")], model=TrainConfig)
    assert cfg.model.source == "tiny"
    assert cfg.advantage.name == "hgpo"
    assert cfg.sft.enabled
    assert cfg.policy.sampling.temperature == 1.0
    assert len(cfg.eval.seeds) >= 3


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("loss.agg=mean", "loss.agg"),
        ("loss.dual_clip=0.5", "loss.dual_clip"),
        ("trainer.ppo_epoch=2", "trainer.ppo_epoch: unknown field"),
        ("loss.tis_cap=2 loss.old_logprobs=rollout", "needs old_logprobs: recompute"),
        ("sft.enabled=true", None),
    ],
)
def test_bad_values_name_the_field(override: str, message: str | None) -> None:
    if message is None:
        assert load_config(None, override.split(), model=TrainConfig).sft.enabled
        return
    with pytest.raises(ConfigError, match=message):
        load_config(None, override.split(), model=TrainConfig)
