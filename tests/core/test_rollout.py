"""Rollout engine: grouping, determinism, hooks, store/resume, truncation, multi-agent seats."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import turnrl
from turnrl.core.hookspecs import hookimpl
from turnrl.core.policy import Completion, GenerationRequest
from turnrl.core.rollout import RolloutConfig, run_groups, sampling_seed, split_failed
from turnrl.core.store import EpisodeStore
from turnrl.core.types import Episode, EpisodeGroup, Observation, Task, Transition
from turnrl.inference import make_policy
from turnrl.plugins.toy.env import GridEnv


def _run(*args: Any, **kwargs: Any) -> list[EpisodeGroup]:
    return asyncio.run(run_groups(*args, **kwargs))


def _actions(groups: list[EpisodeGroup]) -> dict[str, list[str]]:
    return {e.id: [s.action for s in e.steps] for g in groups for e in g.episodes}


TASKS = turnrl.tasks("toy-env", "valid", n=6)


def test_gold_policy_solves_every_task_with_identical_group_starts() -> None:
    groups = _run("toy-env", TASKS, make_policy("scripted:gold"), group_size=3)
    assert [g.task for g in groups] == TASKS
    for g, task in zip(groups, TASKS, strict=True):
        assert g.group_id == f"{task.id}@{task.seed}"
        assert [e.id for e in g.episodes] == [f"{g.group_id}/{k}" for k in range(3)]
        assert {e.steps[0].observation for e in g.episodes} == {g.episodes[0].steps[0].observation}
        for e in g.episodes:
            assert e.status == "ok"
            assert e.won
            assert e.metrics["won"]
            assert e.steps[-1].done
            assert not any(s.done for s in e.steps[:-1])
            assert all(s.valid and s.info["format_valid"] for s in e.steps)
            assert e.total_reward == 1.0
            # the expert takes a shortest path: the BFS length from the task's start
            from turnrl.plugins.toy.expert import shortest_path

            d = task.data
            path = shortest_path(d["size"], tuple(d["start"]), tuple(d["goal"]),
                                 {tuple(w) for w in d["walls"]})
            assert [s.action for s in e.steps] == path


def test_results_do_not_depend_on_concurrency() -> None:
    policy = make_policy("scripted:random")
    serial = _run("toy-env", TASKS, policy, group_size=4,
                  config=RolloutConfig(max_concurrent_episodes=1, max_concurrent_requests=1))
    wide = _run("toy-env", TASKS, policy, group_size=4,
                config=RolloutConfig(max_concurrent_episodes=64, max_concurrent_requests=7))
    assert _actions(serial) == _actions(wide)
    # ... and the K episodes of a group are not copies of each other (different seeds)
    for g in serial:
        assert len({tuple(s.action for s in e.steps) for e in g.episodes}) > 1


def test_run_seed_changes_sampling() -> None:
    policy = make_policy("scripted:random")
    a = _run("toy-env", TASKS, policy, group_size=2, config=RolloutConfig(seed=0))
    b = _run("toy-env", TASKS, policy, group_size=2, config=RolloutConfig(seed=1))
    assert _actions(a) != _actions(b)


def test_sampling_seed_is_a_pure_function_of_the_coordinates() -> None:
    t = TASKS[0]
    s = sampling_seed(0, t, 0, 1, "agent", 2)
    assert s == sampling_seed(0, t, 0, 1, "agent", 2)
    others = {sampling_seed(1, t, 0, 1, "agent", 2), sampling_seed(0, t, 1, 1, "agent", 2),
              sampling_seed(0, t, 0, 2, "agent", 2), sampling_seed(0, t, 0, 1, "b", 2),
              sampling_seed(0, t, 0, 1, "agent", 3), sampling_seed(0, TASKS[1], 0, 1, "agent", 2)}
    assert s not in others
    assert len(others) == 6
    assert 0 <= s < 2**63


def test_repeated_task_gets_distinct_group_ids_and_seeds() -> None:
    groups = _run("toy-env", [TASKS[0], TASKS[0]], make_policy("scripted:random"), group_size=2)
    assert groups[0].group_id != groups[1].group_id
    assert groups[1].group_id.endswith("#1")
    assert [[s.action for s in e.steps] for e in groups[0].episodes] != \
           [[s.action for s in e.steps] for e in groups[1].episodes]


class _Collector:
    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl
    def turnrl_episode_end(self, episode: Episode) -> None:
        self.seen.append(episode.id)


def test_episode_end_hook_sees_every_episode() -> None:
    host = turnrl.get_host()
    collector = _Collector()
    host.register_plugin(collector, "test-rollout-collector")
    try:
        groups = _run("toy-env", TASKS, make_policy("scripted:random"), group_size=2)
    finally:
        host.unregister_plugin("test-rollout-collector")
    assert sorted(collector.seen) == sorted(e.id for g in groups for e in g.episodes)


class _Counting:
    """Wraps a policy and counts requests (to prove resumed episodes are not replayed)."""

    wants_prompt = False

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        self.calls += len(requests)
        return await self.inner.generate(requests)

    async def close(self) -> None:
        return None


def test_store_receives_every_episode_and_resume_skips_them(tmp_path: Path) -> None:
    path = tmp_path / "episodes.jsonl"
    policy = _Counting(make_policy("scripted:random"))
    first = _run("toy-env", TASKS, policy, group_size=2, store=str(path))
    stored = EpisodeStore(path).read()
    assert sorted(e.id for e in stored) == sorted(_actions(first))
    # drop the last third of the store (as if the run had crashed) and resume
    lines = path.read_text().splitlines(keepends=True)
    keep = len(lines) * 2 // 3
    path.write_text("".join(lines[:keep]))
    again = _Counting(make_policy("scripted:random"))
    second = _run("toy-env", TASKS, again, group_size=2, store=str(path))
    replayed = len(lines) - keep
    expected_calls = sum(len(e.steps) for e in EpisodeStore(path).read()[keep:])
    assert again.calls == expected_calls > 0
    assert _actions(second) == _actions(first)
    assert len(EpisodeStore(path).read()) == len(lines) == keep + replayed
    # a full store replays nothing
    third = _Counting(make_policy("scripted:random"))
    _run("toy-env", TASKS, third, group_size=2, store=EpisodeStore(path))
    assert third.calls == 0


def test_engine_max_steps_truncates() -> None:
    groups = _run("toy-env", TASKS[:2], make_policy("scripted:random"), group_size=2,
                  config=RolloutConfig(max_steps=1))
    for e in (e for g in groups for e in g.episodes):
        assert len(e.steps) == 1
        assert e.status == ("ok" if e.won else "truncated")


def test_env_truncation_is_status_truncated() -> None:
    cfg = RolloutConfig(env_options={"max_steps": 2})
    groups = _run("toy-env", TASKS, make_policy("scripted:random"), group_size=3, config=cfg)
    eps = [e for g in groups for e in g.episodes]
    assert {e.status for e in eps if not e.won} == {"truncated"}
    assert all(len(e.steps) <= 2 for e in eps)


def test_split_failed() -> None:
    t = TASKS[0]
    ok = EpisodeGroup("g1", t, [Episode("a", "g1", t), Episode("b", "g1", t, status="truncated")])
    bad = EpisodeGroup("g2", t, [Episode("c", "g2", t), Episode("d", "g2", t, status="timeout")])
    assert split_failed([ok, bad]) == ([ok], [bad])


class _Duel:
    """Two seats take turns; 4 turns in all. Per-seat rewards in info["rewards"]."""

    seats = ("a", "b")

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.t = 0
        return Observation("your move", agent="a", actions=("x", "y"), state_key="0")

    async def step(self, action: str) -> Transition:
        self.t += 1
        seat = "a" if self.t % 2 == 1 else "b"
        done = self.t == 4
        rewards = {"a": 1.0, "b": -1.0} if done else {seat: 0.25}
        nxt = "b" if seat == "a" else "a"
        return Transition(Observation(f"turn {self.t}", agent=nxt, actions=("x", "y"),
                                      state_key=str(self.t)),
                          terminated=done, info={"rewards": rewards, "won": done and True})

    async def close(self) -> None:
        return None


def test_multi_agent_env_gives_one_trajectory_per_seat() -> None:
    task = Task(env="duel", id="duel-0", seed=3)
    (group,) = _run(_Duel, [task], make_policy("scripted:random"), group_size=2)
    assert [e.id for e in group.episodes] == ["duel-0@3/0/a", "duel-0@3/0/b",
                                              "duel-0@3/1/a", "duel-0@3/1/b"]
    a, b = group.episodes[:2]
    assert (a.seat, b.seat) == ("a", "b")
    assert [s.observation.state_key for s in a.steps] == ["0", "2"]
    assert [s.observation.state_key for s in b.steps] == ["1", "3"]
    # turn 3 pays a 0.25; the final +1 for a arrives on b's turn 4, credited to a's last step
    assert [s.reward for s in a.steps] == [0.25, 1.25]
    assert [s.reward for s in b.steps] == [0.25, -1.0]
    assert a.steps[-1].done
    assert b.steps[-1].done
    assert a.metrics["base_id"] == b.metrics["base_id"] == "duel-0@3/0"


class _Ambush:
    """Seats a, c, d: a acts, c acts, a acts (game over). c is paid on a's first turn, before
    it ever acted; d never acts (killed before its turn) but is paid and wins at the end."""

    seats = ("a", "c", "d")
    order = ("a", "c", "a")

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.t = 0
        return Observation("go", agent="a", actions=("x",), state_key="0")

    async def step(self, action: str) -> Transition:
        self.t += 1
        done = self.t == 3
        rewards = ({"a": -1.0, "c": 1.0, "d": 1.0} if done else
                   {"c": 0.5} if self.t == 1 else {})
        info: dict[str, Any] = {"rewards": rewards}
        if done:
            info["winners"] = ["c", "d"]
        agent = None if done else self.order[self.t]
        return Transition(Observation(f"t{self.t}", agent=agent, actions=("x",),
                                      state_key=str(self.t)), terminated=done, info=info)

    async def close(self) -> None:
        return None


def test_a_seat_paid_before_it_acts_or_that_never_acts_keeps_its_reward_and_verdict(
        tmp_path: Path) -> None:
    task = Task(env="ambush", id="ambush-0", seed=1)
    path = tmp_path / "e.jsonl"
    (group,) = _run(_Ambush, [task], make_policy("scripted:random"), group_size=1,
                    store=str(path))
    a, c, d = group.episodes
    assert [s.reward for s in c.steps] == [0.5 + 1.0]  # the early 0.5 lands on c's first step
    assert (a.total_reward, c.total_reward, d.total_reward) == (-1.0, 1.5, 1.0)
    assert (a.won, c.won, d.won) == (False, True, True)
    assert d.steps == []
    assert d.metrics["total_reward"] == 1.0
    assert d.metrics["won"] is True
    with EpisodeStore(path) as store:  # the record survives a store round trip
        (back,) = [e for e in store.read() if e.seat == "d"]
    assert (back.total_reward, back.won) == (1.0, True)


def test_resume_replays_a_game_stored_without_all_its_seats(tmp_path: Path) -> None:
    task = Task(env="duel", id="duel-0", seed=3)
    path = tmp_path / "e.jsonl"
    (first,) = _run(_Duel, [task], make_policy("scripted:random"), group_size=2,
                    store=str(path))
    assert all(e.metrics["seats"] == 2 for e in first.episodes)
    # crash after seat a of game 1 was written, before seat b
    lines = path.read_text().splitlines(keepends=True)
    kept = [ln for ln in lines if '"id":"duel-0@3/1/b"' not in ln]
    assert len(kept) == 3
    path.write_text("".join(kept))
    counter = _Counting(make_policy("scripted:random"))
    (again,) = _run(_Duel, [task], counter, group_size=2, store=str(path))
    assert counter.calls == 4  # game 1 replayed whole (4 turns), game 0 read back
    assert _actions([again]) == _actions([first])


@pytest.mark.parametrize("size", [0, -1])
def test_bad_group_size_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="group_size"):
        _run("toy-env", TASKS, make_policy("scripted:gold"), group_size=size)


def test_progress_bar_runs(capsys: pytest.CaptureFixture[str]) -> None:
    groups = _run("toy-env", TASKS, make_policy("scripted:gold"), group_size=2,
                  config=RolloutConfig(progress=True))
    assert all(e.status == "ok" for g in groups for e in g.episodes)


def test_progress_counts_episodes_steps_and_success() -> None:
    from turnrl.core.rollout import _Progress

    t = TASKS[0]
    p = _Progress(total=3)
    p.steps = 12
    won = Episode("a", "g", t, metrics={"won": True})
    p.episode_done([won])
    p.episode_done([Episode("b", "g", t, metrics={"won": False}, status="timeout")])
    # a multi-agent episode counts once, as a success if any seat won
    p.episode_done([Episode("c/x", "g", t), Episode("c/y", "g", t, metrics={"won": True})])
    (task,) = p.bar.tasks
    assert (task.completed, task.total) == (3, 3)
    assert "success 0.67" in task.fields["info"]
    assert "failed 1" in task.fields["info"]
    assert "steps/s" in task.fields["info"]


class _Counter:
    """Env: wants actions "1", "2", "3" in order; wins after the third."""

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.t = 0
        return Observation("start", state_key="0")

    async def step(self, action: str) -> Transition:
        self.t += 1
        ok = action == str(self.t)
        return Transition(Observation(f"at {self.t}", state_key=str(self.t)),
                          reward=float(ok and self.t == 3), terminated=self.t == 3,
                          info={"won": ok and self.t == 3, "valid_action": ok})

    async def close(self) -> None:
        return None


class _CountingExpert:
    """A stateful expert (like ALFWorld's planner): it counts its own moves."""

    def __init__(self, task: Task) -> None:
        self.n = 0

    def act(self, observation: Observation) -> str:
        self.n += 1
        return str(self.n)


class _CounterPlugin:
    @hookimpl
    def turnrl_register_envs(self, register: Any) -> None:
        register("test-counter", _Counter, tasks=lambda split, **_: [
            Task(env="test-counter", id=f"c{i}", split=split) for i in range(3)],
            expert=_CountingExpert)


def test_gold_keeps_one_stateful_expert_per_episode() -> None:
    host = turnrl.get_host()
    host.register_plugin(_CounterPlugin(), "test-counter-plugin")
    try:
        tasks = host.tasks("test-counter", "train")
        groups = _run("test-counter", tasks, make_policy("scripted:gold"), group_size=4,
                      host=host)
    finally:
        host.unregister_plugin("test-counter-plugin")
    for e in (e for g in groups for e in g.episodes):
        assert [s.action for s in e.steps] == ["1", "2", "3"]
        assert e.won


def test_engine_ends_episodes_so_gold_frees_its_experts() -> None:
    policy = make_policy("scripted:gold")
    _run("toy-env", TASKS, policy, group_size=2)
    assert policy._choose.experts == {}  # type: ignore[attr-defined]


class _Recorder:
    """Records every request the engine sends (and plays random actions)."""

    wants_prompt = False

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []
        self.inner = make_policy("scripted:random")

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        self.requests.extend(requests)
        return await self.inner.generate(requests)

    async def close(self) -> None:
        return None


def test_requests_carry_the_documented_seed_stop_and_episode_id() -> None:
    rec = _Recorder()
    cfg = RolloutConfig(seed=7)
    groups = _run("toy-env", TASKS[:2], rec, group_size=2, config=cfg)
    seen: dict[str, int] = {}
    for req in rec.requests:
        base, seat = req.episode_id.rsplit("/", 1)  # type: ignore[union-attr]
        k = int(base.rsplit("/", 1)[1])
        step = seen.get(base, 0)
        seen[base] = step + 1
        assert req.sampling.seed == sampling_seed(7, req.task, 0, k, seat, step)
        assert req.sampling.stop == ("</action>",)  # the template's stop string
    assert seen == {e.id: len(e.steps) for g in groups for e in g.episodes}


def test_resume_replays_stored_failures_and_keeps_their_records(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    flaky = {"on": True}

    class Outage(GridEnv):
        async def step(self, action: str) -> Transition:
            if flaky["on"] and self._task is not None and self._task.id == TASKS[1].id:
                raise ConnectionError("down")
            return await super().step(action)

    first = _run(Outage, TASKS[:3], make_policy("scripted:gold"), group_size=2, store=str(path))
    assert [e.status for e in first[1].episodes] == ["env_error", "env_error"]
    flaky["on"] = False
    counter = _Counting(make_policy("scripted:gold"))
    again = _run(Outage, TASKS[:3], counter, group_size=2, store=str(path))
    assert counter.calls == sum(len(e.steps) for e in again[1].episodes) > 0  # only those
    assert all(e.status == "ok" and e.won for g in again for e in g.episodes)
    stored = EpisodeStore(path).read()
    assert len(stored) == 6 + 2  # the failed records are kept, the newer ones follow
    assert [e.status for e in stored if e.group_id == again[1].group_id] == \
        ["env_error", "env_error", "ok", "ok"]
