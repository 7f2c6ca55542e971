"""Failed episodes are counted, never dropped from a number: the trainer's held-out success
equals `turnrl eval`'s for the same policy and panel (wins / every episode), and a training
iteration logs how many episodes failed and how many groups it dropped (issue 11 item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import turnrl
from turnrl.cli import main
from turnrl.core.config import load_config
from turnrl.core.host import get_host
from turnrl.inference import make_policy
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.fsdp import init_distributed


@pytest.fixture
def flaky_env():  # type: ignore[no-untyped-def]
    from tests.flaky_env import registered

    yield from registered()


def test_trainer_eval_counts_failures_like_turnrl_eval(tmp_path: Path, flaky_env: None) -> None:
    from tests.flaky_env import NAME, fails
    from turnrl.trainers.recipe import evaluate

    panel = turnrl.tasks("toy-env", "valid")[:12]
    failing = sum(fails(t) for t in panel)
    assert failing == 4  # a third of the panel fails
    cfg = load_config(None, [f"env.name={NAME}", "eval.panel=valid", "eval.max_tasks=12",
                             "eval.seeds=[0,1]"], model=TrainConfig)
    trainer = evaluate(make_policy("scripted:gold"), cfg, get_host(), init_distributed(), "t")
    assert main(["eval", NAME, "--policy", "scripted:gold", "--panel", "valid", "--limit", "12",
                 "--seeds", "2", "--out", str(tmp_path), "--no-progress"]) == 0
    cli = json.loads((tmp_path / "metrics.json").read_text())
    expected = (12 - failing) / 12  # gold wins every task that does not fail
    assert trainer["per_seed"] == [pytest.approx(expected)] * 2
    assert trainer["mean"] == pytest.approx(cli["success"]["mean"]) == pytest.approx(expected)
    assert trainer["failed"] == cli["errors"] == 2 * failing


@pytest.mark.slow
def test_training_logs_failed_episodes_and_dropped_groups(
        tmp_path: Path, flaky_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.flaky_env import NAME
    from turnrl.trainers.recipe import train

    quickstart = Path(turnrl.__file__).parent / "tasks" / "quickstart.yaml"
    cfg = load_config(quickstart, [
        f"env.name={NAME}", "rollout.groups=6", "rollout.group_size=2", "rollout.max_steps=4",
        "eval.max_tasks=3", "eval.seeds=[0]", "sft.enabled=false", "trainer.iterations=1",
        "trainer.skip_zero_advantage=false", "checkpoint.every=0", "logging.tensorboard=false",
        "trainer.threads=1", f"run_dir={tmp_path}"], model=TrainConfig)
    train(cfg, tmp_path)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    (rl,) = [r for r in records if r["phase"] == "rl"]
    # the 6 training tasks are drawn from the train panel; every third task id fails
    drawn_failing = rl["groups/dropped"]
    assert rl["episodes/failed"] == 2 * drawn_failing
    assert drawn_failing >= 1
    assert rl["groups/dropped_frac"] == pytest.approx(drawn_failing / 6)
    out = capsys.readouterr().out
    assert "audit: dropped" in out
    assert "biased towards them" in out
    assert "env_error: env.step raised ConnectionError" in out
