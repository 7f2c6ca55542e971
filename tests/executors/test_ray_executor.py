"""The Ray executor on a real local cluster (``address="local"``, two CPUs), one for the
module: same records as in-process, faults (timeouts, errors, a killed actor), placement by
declared resources, blocking and multi-agent environments, the checker and the CLI through
it. The multi-node cluster (separate processes, a node that leaves) is in
``test_ray_cluster.py`` (slow)."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
import ray.cloudpickle

from tests.executors import envs
from turnrl.cli import main
from turnrl.core.checker import check_env
from turnrl.core.host import get_host
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.store import EpisodeStore
from turnrl.executors.ray import EnvActorLost, PlacementError, RayExecutor
from turnrl.inference import make_policy

RANDOM = make_policy("scripted:random")


@pytest.fixture(scope="module")
def executor() -> Iterator[RayExecutor]:
    ray.cloudpickle.register_pickle_by_value(envs)
    ex = RayExecutor(address="local", num_cpus=2, log_to_driver=False)
    try:
        yield ex
    finally:
        ex.close()
        ray.cloudpickle.unregister_pickle_by_value(envs)
    assert not ray.is_initialized()


def play(env: Any, tasks: list[Any], executor: RayExecutor | None, *, group_size: int = 1,
         store: Any = None, **cfg: Any) -> list[Any]:
    config = RolloutConfig(**{"max_concurrent_episodes": 32, **cfg})
    groups = asyncio.run(run_groups(env, tasks, RANDOM, group_size=group_size, config=config,
                                    store=store, executor=executor))
    return [e for g in groups for e in g.episodes]


def records(episodes: list[Any]) -> list[dict[str, Any]]:
    return [e.to_dict() for e in episodes]


def test_records_are_those_of_an_in_process_run(executor: RayExecutor, tmp_path: Path) -> None:
    host = get_host()
    tasks = host.tasks("toy-env", "train")[:6]
    local = play("toy-env", tasks, None, group_size=3, max_steps=8)
    remote = play("toy-env", tasks, executor, group_size=3, max_steps=8,
                  store=str(tmp_path / "eps.jsonl"))
    assert records(remote) == records(local)
    assert {e.status for e in remote} <= {"ok", "truncated"}
    assert sorted(e.id for e in EpisodeStore(tmp_path / "eps.jsonl")) == sorted(
        e.id for e in remote)
    pool = executor.pools[("toy-env", "{}")]
    assert pool.capacity >= 18
    assert pool.describe()["actors"] >= 1


def test_timeouts_and_errors_end_episodes_as_in_process(executor: RayExecutor) -> None:
    tasks = [*envs.tasks(3), *envs.tasks(2, "-stall"), *envs.tasks(2, "-raise")]
    cfg = {"env_timeout_s": 1.0}
    local = play(envs.FaultyEnv, tasks, None, **cfg)
    remote = play(envs.FaultyEnv, tasks, executor, **cfg)
    assert records(remote) == records(local)
    by_status = {e.task.id: (e.status, e.error, len(e.steps)) for e in remote}
    assert by_status["t0-stall"] == ("timeout", "env.step timed out after 1s", 1)
    assert by_status["t0-raise"] == ("env_error",
                                     "env.step raised ConnectionError: engine went away", 1)
    # the stalled instances were closed in the actor (their calls cancelled): nothing leaks
    pool = executor.pools[(envs.FaultyEnv, "{}")]
    hosted = ray.get([link.handle.hosted.remote() for link in pool.links], timeout=30)
    assert sum(hosted) == 0


@pytest.mark.slow
def test_a_killed_actor_ends_its_episodes_and_the_pool_replaces_it(
        executor: RayExecutor, tmp_path: Path) -> None:
    """Eight 2 s episodes on four actors of two slots; one actor killed mid-run: its two
    episodes end with env_error and keep their steps, the six others finish, the pool is back
    to full strength, every episode is in the store, and a rerun plays only the two again."""
    tasks = envs.tasks(8)
    store = tmp_path / "eps.jsonl"
    factory = functools.partial(envs.PairedEnv, steps=10, step_s=0.2)
    killed: list[Any] = []

    async def run_and_kill() -> list[Any]:
        async def kill_one() -> None:
            pool = executor.pool(factory, host=None)
            deadline = time.monotonic() + 60
            while sum(link.used for link in pool.links) < 8:  # all eight episodes started
                assert time.monotonic() < deadline, pool.describe()
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # a few steps in
            killed.append(pool.links[0])
            ray.kill(pool.links[0].handle)

        killer = asyncio.ensure_future(kill_one())
        groups = await run_groups(factory, tasks, RANDOM, store=str(store), executor=executor)
        await killer
        return [e for g in groups for e in g.episodes]

    episodes = asyncio.run(run_and_kill())
    failed = [e for e in episodes if e.status != "ok"]
    assert len(failed) == 2, [(e.status, e.error) for e in episodes]
    for e in failed:
        assert e.status == "env_error"
        assert "EnvActorLost: the Ray actor hosting this environment died" in e.error
        assert 1 <= len(e.steps) < 10  # the steps it got through are kept
    assert sum(e.status == "ok" and len(e.steps) == 10 for e in episodes) == 6
    pool = executor.pool(factory, host=None)
    assert pool.lost == 1
    assert killed[0] not in pool.links
    deadline = time.monotonic() + 60
    while pool.capacity < 8 and time.monotonic() < deadline:  # the replacement is starting
        time.sleep(0.2)
    assert pool.capacity == 8
    stored = EpisodeStore(store).read()
    assert len(stored) == 8
    assert sum(e.status == "env_error" for e in stored) == 2
    again = asyncio.run(run_groups(factory, tasks, RANDOM, store=str(store),
                                   executor=executor))
    assert all(e.status == "ok" for g in again for e in g.episodes)
    assert len(EpisodeStore(store).read()) == 10  # the two replayed, appended; none lost


def test_blocking_environments_run_on_threads_inside_the_actor(executor: RayExecutor) -> None:
    tasks = envs.tasks(6)
    factory = functools.partial(envs.BlockingEnv, steps=3, step_s=0.3)
    play(factory, tasks[:1], executor)  # the pool's actor starts (seconds), not timed
    t0 = time.perf_counter()
    eps = play(factory, tasks, executor)
    wall = time.perf_counter() - t0
    assert all(e.status == "ok" and len(e.steps) == 3 for e in eps)
    assert wall < 6 * 3 * 0.3 * 0.5, f"{wall:.2f}s: the blocking steps did not overlap"


def test_multi_agent_seats_come_from_the_actor(executor: RayExecutor) -> None:
    tasks = envs.tasks(3)
    local = play(envs.DuelEnv, tasks, None, group_size=2)
    remote = play(envs.DuelEnv, tasks, executor, group_size=2)
    assert records(remote) == records(local)
    assert {e.seat for e in remote} == {"red", "blue"}
    assert executor.pools[(envs.DuelEnv, "{}")].seats == ["red", "blue"]


def test_seat_tags_dealt_at_reset_come_back_from_the_actor(executor: RayExecutor) -> None:
    """Seat assignment reads ``seat_tags()`` after reset (``core.seating``): a remote game's
    tags are fetched with each reset, so roles split groups as they do in process."""
    from turnrl.core.seating import seat_tags_of
    from turnrl.core.types import Task

    async def go() -> list[Any]:
        open_env = await executor.env_factory(envs.TaggedDuelEnv, host=None, concurrency=1)
        env = await open_env()
        try:
            seen = [seat_tags_of(env)]
            for task_id in ("t1", "t2"):
                await env.reset(Task(env="duel", id=task_id), seed=0)
                seen.append(seat_tags_of(env))
            return seen
        finally:
            await env.close()

    before, first, second = asyncio.run(go())
    assert before == {}
    assert first == {"red": {"team": "r", "dealt": "t1"}, "blue": {"team": "b", "dealt": "t1"}}
    assert second["red"]["dealt"] == "t2"
    assert executor.pool(envs.DuelEnv, host=None).tagged is False  # untagged games: no fetch


def test_an_environment_no_node_can_host_is_refused_in_one_line(executor: RayExecutor) -> None:
    with pytest.raises(PlacementError, match=r"no node of the Ray cluster can host "
                                             r"BrowserEnv.*browser"):
        play(envs.BrowserEnv, envs.tasks(2), executor)


def test_a_registered_environment_is_placed_by_what_it_declared(executor: RayExecutor) -> None:
    """The kernel environment on ``cuda`` declares a GPU: this cluster has none, so it is
    refused before any episode, naming the need; on ``cpu`` it needs a core per instance."""
    host = get_host()
    tasks = host.tasks("kernel", "train")[:1]
    with pytest.raises(PlacementError, match=r"no node of the Ray cluster can host kernel "
                                             r"\(one actor needs 1 x .*'gpus': 1"):
        asyncio.run(run_groups("kernel", tasks, RANDOM, executor=executor,
                               config=RolloutConfig(env_options={"device": "cuda"})))
    pool = executor.pool("kernel", host=host, options={"device": "cpu"})
    assert (pool.resources.cpus, pool.resources.gpus, pool.resources.per_actor) == (1, 0, 1)
    executor.release("kernel", {"device": "cuda"})
    executor.release("kernel", {"device": "cpu"})


def test_the_checker_runs_through_the_executor(executor: RayExecutor) -> None:
    report = check_env("toy-env", max_tasks=3, executor=executor)
    assert report.ok, report.format()
    placement = report.results[0]
    assert placement.name == "placement"
    assert "actor(s) on 1 node(s)" in placement.message
    bad = check_env("toy-env", max_tasks=1, executor=executor,
                    options={"no_such_option": 1})
    assert not bad.ok
    assert any("no_such_option" in r.message for r in bad.failures)
    executor.release("toy-env", {"no_such_option": 1})


def test_cli_check_and_rollout_take_the_ray_executor(executor: RayExecutor, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # the CLI joins the cluster this process is already connected to (and leaves it running)
    assert main(["check", "toy-env", "--executor", "ray", "--max-tasks", "2", "--json"]) == 0
    assert '"placement"' in capsys.readouterr().out
    assert ray.is_initialized()
    args = ["toy-env", "--policy", "scripted:gold", "--tasks", "3", "--group-size", "2",
            "--no-progress"]
    assert main(["rollout", *args, "--out", str(tmp_path / "local.jsonl")]) == 0
    assert main(["rollout", *args, "--out", str(tmp_path / "ray.jsonl"),
                 "--executor", "ray"]) == 0

    def stored(name: str) -> list[dict[str, Any]]:
        return sorted((e.to_dict() for e in EpisodeStore(tmp_path / name)),
                      key=lambda d: d["id"])

    assert stored("ray.jsonl") == stored("local.jsonl")
    assert all(e["status"] == "ok" for e in stored("ray.jsonl"))
    assert ray.is_initialized()


def test_cli_refuses_ray_settings_without_the_ray_executor(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "toy-env", "--ray-address", "auto"]) == 2
    assert "--ray-address and --ray-cpus need --executor ray" in capsys.readouterr().err


def test_env_actor_lost_is_an_error_the_engine_counts() -> None:
    assert issubclass(EnvActorLost, Exception)  # not BaseException: the engine records it


@pytest.mark.slow
def test_a_training_run_through_the_ray_executor_equals_an_in_process_one(
        executor: RayExecutor, tmp_path: Path) -> None:
    """The quickstart, shortened, twice: ``rollout.executor: ray`` (joining this module's
    cluster) gives the same evaluations and the same per-iteration metrics, timings aside."""
    import json

    import turnrl

    quickstart = Path(turnrl.__file__).parent / "tasks" / "quickstart.yaml"
    small = ["rollout.groups=2", "rollout.group_size=2", "rollout.max_steps=3",
             "eval.max_tasks=3", "eval.seeds=[0]", "sft.episodes=2", "sft.steps=1",
             "trainer.iterations=2", "trainer.threads=1", "logging.tensorboard=false"]
    for name, extra in (("inprocess", []), ("ray", ["rollout.executor=ray"])):
        assert main(["train", str(quickstart), "--run-dir", str(tmp_path / name), *small,
                     *extra]) == 0

    def run(name: str) -> tuple[Any, list[dict[str, Any]]]:
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        lines = (tmp_path / name / "metrics.jsonl").read_text().splitlines()
        metrics = [{k: v for k, v in json.loads(line).items()
                    if not k.startswith("time") and k not in ("tokens_per_s", "wall_s")}
                   for line in lines]
        return summary["success"], metrics

    assert run("ray") == run("inprocess")
    assert ray.is_initialized()  # the trainer left the cluster it joined running


def test_werewolf_with_seat_assignment_through_ray_equals_in_process(
        executor: RayExecutor, tmp_path: Path) -> None:
    """A real multi-agent game: the village seats learn, bots play the wolves; roles are
    dealt at reset in the actor and split the groups exactly as in process."""
    args = ["eval", "werewolf", "--policy", "scripted:basic", "--learner", "team=village",
            "--opponent", "scripted:basic", "--limit", "3", "--seeds", "1", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "in")]) == 0
    assert main([*args, "--out", str(tmp_path / "ray"), "--executor", "ray"]) == 0

    def stored(name: str) -> list[dict[str, Any]]:
        rows = [e.to_dict() for e in EpisodeStore(tmp_path / name / "episodes.jsonl")]
        return sorted(rows, key=lambda d: d["id"])

    remote = stored("ray")
    assert remote == stored("in")
    assert {r["metrics"]["seat_tags"]["team"] for r in remote} == {"village"}
