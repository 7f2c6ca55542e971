"""A real multi-node Ray cluster on 127.0.0.1: a head and two worker nodes, each its own
``ray start --block`` process group (``LocalCluster``), joined by this process as a driver.

Plays toy-env, ALFWorld (simulator) and, when its plugin is registered, the code environment
(bwrap sandbox) through it, each with the expert policy, and compares every record with an
in-process run; runs ``turnrl check --executor ray`` against it from another process; and
takes a worker node away in the middle of a rollout. Slow: three Ray nodes start (~30 s and
~2 GB here); stopped by their own process groups, never ``ray stop``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
import ray.cloudpickle

from tests.executors import envs
from turnrl.core.host import get_host
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.store import EpisodeStore
from turnrl.executors.ray import RayExecutor
from turnrl.executors.ray.cluster import LocalCluster
from turnrl.inference import make_policy

pytestmark = pytest.mark.slow

# a killed node is declared dead after ~2 s instead of the default ~30 s
FAST_HEALTH_CHECKS = {"health_check_period_ms": 500, "health_check_timeout_ms": 1000,
                      "health_check_failure_threshold": 4}


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[LocalCluster, RayExecutor]]:
    ray.cloudpickle.register_pickle_by_value(envs)
    local = LocalCluster(head_cpus=1, system_config=FAST_HEALTH_CHECKS,
                         workers=[{"num_cpus": 2, "resources": {"w0": 1}},
                                  {"num_cpus": 2, "resources": {"w1": 1}}])
    executor = None
    try:
        local.start()
        executor = RayExecutor(address=local.address, log_to_driver=False)
        local.wait_for_nodes(ray, 3)
        yield local, executor
    finally:
        if executor is not None:
            executor.close()
        local.stop()
        ray.cloudpickle.unregister_pickle_by_value(envs)
    assert local.leftovers() == [], "processes of the test cluster outlived stop()"


def _play(env: Any, tasks: list[Any], executor: RayExecutor | None, *, group_size: int,
          concurrency: int, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cfg = RolloutConfig(max_concurrent_episodes=concurrency, env_options=options or {})
    policy = make_policy("scripted:gold")
    groups = asyncio.run(run_groups(env, tasks, policy, group_size=group_size, config=cfg,
                                    executor=executor))
    return [e.to_dict() for g in groups for e in g.episodes]


ENVS = [
    # name, split, tasks, group size, concurrency (> one actor's slots: two actors, two nodes)
    ("toy-env", "train", 16, 8, 128),
    ("alfworld", "valid_seen", 8, 2, 16),
    ("code", "train", 6, 1, 6),
]


@pytest.mark.parametrize(("env", "split", "n", "group_size", "concurrency"), ENVS,
                         ids=[e[0] for e in ENVS])
def test_expert_episodes_across_nodes_equal_in_process_ones(
        cluster: tuple[LocalCluster, RayExecutor], env: str, split: str, n: int,
        group_size: int, concurrency: int) -> None:
    _, executor = cluster
    host = get_host()
    if env not in host.envs:
        pytest.skip(f"the {env!r} plugin is not registered in this checkout")
    tasks = host.tasks(env, split)[:n]
    local = _play(env, tasks, None, group_size=group_size, concurrency=concurrency)
    try:
        remote = _play(env, tasks, executor, group_size=group_size, concurrency=concurrency)
        placed = executor.pool(env, host=host).describe()
    finally:
        executor.release(env)  # the next test's pools get the whole cluster
    assert remote == local
    assert all(e["status"] == "ok" and e["metrics"]["won"] for e in remote)
    assert len(placed["nodes"]) >= 2, placed  # the pool spread over the nodes


def test_turnrl_check_joins_the_cluster_from_another_process(
        cluster: tuple[LocalCluster, RayExecutor]) -> None:
    local, _ = cluster
    out = subprocess.run(
        [sys.executable, "-m", "turnrl.cli", "check", "toy-env", "--executor", "ray",
         "--ray-address", local.address, "--max-tasks", "2"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "placement" in out.stdout
    assert "toy-env passes every check" in out.stdout


def test_a_node_that_leaves_ends_its_episodes_and_the_others_go_on(
        cluster: tuple[LocalCluster, RayExecutor], tmp_path: Path) -> None:
    """Twelve 6 s episodes on six actors of two slots over three nodes; worker node 0 is
    killed (SIGKILL to its process group) mid-run: every episode on its actors ends with
    env_error and keeps its steps, the others finish, the pool refills on the nodes left,
    and every episode is in the store."""
    local, executor = cluster
    factory = functools.partial(envs.PairedEnv, steps=30, step_s=0.2)
    tasks = envs.tasks(12)
    store = tmp_path / "eps.jsonl"
    w0 = next(n["NodeID"] for n in ray.nodes() if n.get("Alive") and "w0" in n["Resources"])
    doomed: list[int] = []

    async def run_and_kill() -> list[Any]:
        async def kill_node() -> None:
            pool = executor.pool(factory, host=None)
            deadline = time.monotonic() + 120
            while sum(link.used for link in pool.links) < 12:
                assert time.monotonic() < deadline, pool.describe()
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)
            doomed.append(sum(link.used for link in pool.links if link.node_id == w0))
            doomed.append(sum(link.node_id == w0 for link in pool.links))
            local.kill_worker(0)

        killer = asyncio.ensure_future(kill_node())
        groups = await run_groups(factory, tasks, make_policy("scripted:random"),
                                  store=str(store), executor=executor,
                                  config=RolloutConfig(max_concurrent_episodes=12,
                                                       env_timeout_s=60))
        await killer
        return [e for g in groups for e in g.episodes]

    episodes = asyncio.run(run_and_kill())
    on_node, actors_on_node = doomed
    assert on_node > 0, "no episode ran on the node that was killed"
    failed = [e for e in episodes if e.status != "ok"]
    assert len(failed) == on_node, [(e.status, e.error) for e in failed]
    for e in failed:
        assert e.status == "env_error"
        assert "the Ray actor hosting this environment died" in e.error
        assert 1 <= len(e.steps) < 30
    assert sum(e.status == "ok" and len(e.steps) == 30 for e in episodes) == 12 - on_node
    pool = executor.pool(factory, host=None)
    assert pool.lost == actors_on_node
    deadline = time.monotonic() + 120
    while pool.capacity < 12 and time.monotonic() < deadline:
        time.sleep(0.5)
    placed = pool.describe()
    assert pool.capacity == 12, placed
    assert all(link.node_id != w0 for link in pool.links)
    stored = EpisodeStore(store).read()
    assert sorted(e.id for e in stored) == sorted(e.id for e in episodes)
