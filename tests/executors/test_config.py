"""Choosing the executor: the run config's ``rollout.executor`` / ``rollout.ray`` sections, the
executor registry, the README's multi-node YAML, and the CLI's one-line errors (no Ray
cluster is started here)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from turnrl.cli import main
from turnrl.core.config import ConfigError, load_config
from turnrl.executors import (
    EXECUTORS,
    ExecutorUnavailable,
    executor_from_config,
    executor_settings,
    make_executor,
)
from turnrl.executors.ray import RayExecutor
from turnrl.trainers.config import TrainConfig

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_default_executor_is_in_process() -> None:
    cfg = load_config(None, [])
    assert cfg.rollout.executor == "inprocess"
    assert executor_from_config(cfg.rollout) is None
    assert make_executor("inprocess") is None


def test_ray_settings_come_from_the_ray_section() -> None:
    cfg = load_config(None, ["rollout.executor=ray", "rollout.ray.address=10.0.0.5:6379",
                             "rollout.ray.batch_window_s=0.01",
                             "rollout.ray.max_actors_per_node=4"])
    name, settings = executor_settings(cfg.rollout)
    assert name == "ray"
    assert settings == {"address": "10.0.0.5:6379", "num_cpus": None, "namespace": "turnrl",
                        "max_actors_per_node": 4, "actor_start_timeout_s": 120.0,
                        "batch_window_s": 0.01, "log_to_driver": True}
    # every setting is a keyword of the executor it configures
    import inspect

    assert set(settings) <= set(inspect.signature(RayExecutor).parameters)


def test_a_bad_executor_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^rollout\.executor: got 'dask', expected 'inprocess'"
                                          r" or 'ray'"):
        load_config(None, ["rollout.executor=dask"])
    with pytest.raises(ConfigError, match=r"rollout\.ray\.batch_window_s"):
        load_config(None, ["rollout.ray.batch_window_s=-1"])
    with pytest.raises(ExecutorUnavailable, match="unknown executor 'dask'"):
        make_executor("dask")
    assert set(EXECUTORS) == {"inprocess", "ray"}


def test_joining_an_address_with_num_cpus_is_a_user_error(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    with pytest.raises(ExecutorUnavailable, match="num_cpus sizes a local cluster"):
        RayExecutor(address="10.0.0.5:6379", num_cpus=2)


def test_the_cli_says_when_ray_is_missing(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    assert main(["check", "toy-env", "--executor", "ray"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("turnrl check: error: rollout.executor 'ray' needs Ray: pip install "
                   "'turnrl[ray]'")


def test_the_readme_multi_node_yaml_is_a_valid_run_config(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"`multinode\.yaml`.*?```yaml\n(.*?)```", text, re.S)
    assert block, "README: the multinode.yaml block is missing"
    path = tmp_path / "multinode.yaml"
    path.write_text(block.group(1))
    cfg = load_config(path, model=TrainConfig)
    assert cfg.rollout.executor == "ray"
    assert cfg.rollout.ray.address == "HEAD:6379"
    assert cfg.policy.backend == "openai"
    assert executor_settings(SimpleNamespace(executor=cfg.rollout.executor,
                                             ray=cfg.rollout.ray))[1]["address"] == "HEAD:6379"


def test_a_local_cluster_stops_its_own_process_groups_and_nothing_else() -> None:
    """``LocalCluster.stop`` kills by the process groups it started (never ``ray stop``), and
    ``leftovers`` sees a child that is still alive in one of them."""
    import subprocess
    import sys

    from turnrl.executors.ray.cluster import LocalCluster

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                 start_new_session=True)
    local = LocalCluster(workers=[])
    local.head = subprocess.Popen(  # a "node" whose child outlives a plain kill of its leader
        [sys.executable, "-c", "import subprocess, sys, time; subprocess.Popen([sys.executable,"
         " '-c', 'import time; time.sleep(60)']); time.sleep(60)"], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while len(local.leftovers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(local.leftovers()) == 2  # the leader and its child
        local.stop()
        assert local.leftovers() == []
        assert bystander.poll() is None  # not ours: untouched
    finally:
        bystander.kill()
        bystander.wait()
