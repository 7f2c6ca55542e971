"""Seat assignment in the rollout engine: learner seats, opponents' line-ups, groups by role.

The game is the werewolf plugin (a real multi-agent environment with hidden roles); the learner
is a recording wrapper around a bot, so every expectation is checked against what the engine
actually asked whom.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from turnrl.core.config import ConfigError, RunConfig, load_config
from turnrl.core.host import get_host
from turnrl.core.policy import Completion, GenerationRequest
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.seating import (
    LineUp,
    Seating,
    SeatingError,
    build_seating,
    game_results,
    game_tally,
    matches,
    split_by_tag,
)
from turnrl.core.types import Episode, EpisodeGroup, Observation, Step, Task
from turnrl.inference.scripted import make_scripted_policy

HOST = get_host()
TASKS = HOST.tasks("werewolf", "valid")[:8]


class Recording:
    """The learner: a bot that records which seats it was asked to play."""

    wants_prompt = True

    def __init__(self, style: str = "basic") -> None:
        self.inner = make_scripted_policy(style, host=HOST, env="werewolf")
        self.asked: Counter[str] = Counter()
        self.prompts = 0

    async def generate(self, requests: list[GenerationRequest]) -> list[Completion]:
        for r in requests:
            self.asked[r.episode_id] += 1
            self.prompts += bool(r.messages)
        return await self.inner.generate(requests)

    async def close(self) -> None:
        return None


def _run(*args: Any, **kwargs: Any) -> list[EpisodeGroup]:
    return asyncio.run(run_groups(*args, host=HOST, **kwargs))


def _seating(learner=("team=village",), opponents=("scripted:basic",), group_by="role"):
    return build_seating(learner, opponents, group_by, env="werewolf", host=HOST)


def test_selectors() -> None:
    tags = {"role": "Seer", "team": "village"}
    assert matches("*", "player_1", tags)
    assert matches("player_1", "player_1", tags)
    assert not matches("player_2", "player_1", tags)
    assert matches("role=seer", "player_1", tags)
    assert matches("team = village", "player_1", tags)
    assert not matches("role=Doctor", "player_1", tags)
    for bad in ("", "=Seer", "role="):
        with pytest.raises(SeatingError):
            LineUp("x", ((bad, None),))
    with pytest.raises(SeatingError, match="learner plays no seat"):
        Seating(learner=())


def test_plan_and_line_up_choice() -> None:
    a, b = object(), object()
    seating = Seating(("role=Seer",), (LineUp("A", (("team=werewolves", a), ("*", b))),
                                       LineUp("B", (("*", b),))))
    tags = {"p0": {"role": "Werewolf", "team": "werewolves"}, "p1": {"role": "Seer"},
            "p2": {"role": "Villager"}}
    chosen = {seating.lineup_for(t).name for t in TASKS}
    assert chosen == {"A", "B"}  # a panel meets every line-up
    task = next(t for t in TASKS if seating.lineup_for(t).name == "A")
    assert seating.lineup_for(task).name == "A"  # stable
    plan = seating.plan(task, ["p0", "p1", "p2"], tags)
    assert plan.learner == {"p1"}
    assert plan.policies == {"p0": a, "p2": b}
    lonely = Seating(("role=Seer",), (LineUp("C", (("team=werewolves", a),)),))
    with pytest.raises(SeatingError, match=r"seat p2 \(role=Villager\) matches no learner "
                                           r"selector \['role=Seer'\] and no rule of line-up C"):
        lonely.plan(task, ["p0", "p1", "p2"], tags)


def test_learner_plays_only_its_seats_and_every_learner_seat_is_an_episode() -> None:
    learner = Recording()
    groups = _run("werewolf", TASKS, learner, group_size=2,
                  config=RolloutConfig(seats=_seating(group_by=None)))
    assert len(groups) == len(TASKS)
    for g in groups:
        for k in range(2):
            game = [e for e in g.episodes if e.metrics["base_id"] == f"{g.group_id}/{k}"]
            assert len(game) == 5  # Seer, Doctor and 3 Villagers: one trajectory each
            assert {e.metrics["seat_tags"]["team"] for e in game} == {"village"}
            assert len({e.seat for e in game}) == 5
            assert all(e.metrics["seats"] == 5 for e in game)
            outcome = {e.won for e in game if e.steps}
            assert len(outcome) == 1  # every seat that acted shares the team's outcome
            for e in game:
                assert learner.asked[e.id] == len(e.steps)  # the learner played these turns
                for s in e.steps:
                    assert s.observation.agent == e.seat
    wolf_asks = [eid for eid in learner.asked if not any(
        e.id == eid for g in groups for e in g.episodes)]
    assert wolf_asks == []  # the bots played the wolves; the learner never saw their turns
    assert learner.prompts == sum(learner.asked.values())  # the learner got real prompts


def test_groups_never_mix_roles() -> None:
    tasks = HOST.tasks("werewolf", "train")[:24]
    seating = _seating(learner=("*",), opponents=())
    groups = _run("werewolf", tasks, Recording(), group_size=3,
                  config=RolloutConfig(seats=seating))
    assert len({g.group_id for g in groups}) == len(groups)
    roles_seen = Counter()
    for g in groups:
        roles = {e.metrics["seat_tags"]["role"] for e in g.episodes}
        assert len(roles) == 1, (g.group_id, roles)  # never a Seer next to a Villager
        assert {(e.task.id, e.task.seed) for e in g.episodes} == {(g.task.id, g.task.seed)}
        assert g.group_id.endswith(f"|role={roles.pop()}")
        assert all(e.group_id == g.group_id for e in g.episodes)
        roles_seen[g.group_id.rsplit("=", 1)[1]] += 1
        EpisodeGroup(g.group_id, g.task, list(g.episodes))  # the contract accepts it
    assert set(roles_seen) == {"Werewolf", "Seer", "Doctor", "Villager"}
    assert roles_seen["Seer"] == len(tasks)  # one Seer group per task
    # the same deal, K=3 repeats: each role group holds K x (seats with that role) episodes
    for g in groups:
        per_game = Counter(e.metrics["base_id"] for e in g.episodes)
        assert set(per_game.values()) == {len(g.episodes) // 3}


def test_split_by_tag_falls_back_to_the_seat() -> None:
    task = Task(env="x", id="t")
    eps = [Episode(f"g/0/{s}", "g", task, seat=s, metrics={"seat_tags": tags})
           for s, tags in (("a", {"role": "R"}), ("b", {}), ("c", {"role": "R"}))]
    parts = split_by_tag([EpisodeGroup("g", task, eps)], "role")
    assert [(p.group_id, [e.seat for e in p.episodes]) for p in parts] == [
        ("g|role=R", ["a", "c"]), ("g|role=seat:b", ["b"])]


def test_resume_with_seating(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    cfg = RolloutConfig(seats=_seating())
    first = _run("werewolf", TASKS[:3], Recording(), group_size=2, config=cfg, store=str(path))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-2]))  # lose two seats of the last game
    again_policy = Recording()
    again = _run("werewolf", TASKS[:3], again_policy, group_size=2, config=cfg,
                 store=str(path))

    def actions(groups):
        return {e.id: [s.action for s in e.steps] for g in groups for e in g.episodes}

    assert actions(again) == actions(first)
    assert [g.group_id for g in again] == [g.group_id for g in first]
    assert 0 < sum(again_policy.asked.values()) < 40  # only the broken game was replayed


def test_a_seat_no_rule_covers_fails_its_episode_not_the_run() -> None:
    seating = _seating(learner=("role=Seer",), opponents=({"team=werewolves": "scripted:basic"},))
    groups = _run("werewolf", TASKS[:2], Recording(), group_size=1,
                  config=RolloutConfig(seats=seating))
    eps = [e for g in groups for e in g.episodes]
    assert eps
    assert {e.status for e in eps} == {"policy_error"}
    assert "matches no learner selector" in eps[0].error


def test_game_results_count_each_game_once() -> None:
    groups = _run("werewolf", TASKS, Recording(), group_size=2,
                  config=RolloutConfig(seats=_seating()))
    won, games = game_results(groups)
    assert games == len(TASKS) * 2
    village_wins = {e.metrics["base_id"] for g in groups for e in g.episodes
                    if e.steps and e.steps[-1].info.get("won")}
    assert won == len(village_wins)


def test_game_tally_counts_a_failed_seat_once_and_averages_returns() -> None:
    """What the trainer's held-out evaluation reports: one game with a failed seat is one
    failed game (not won), and a game's return is its recorded seats' mean."""
    task = Task(env="werewolf", id="t")

    def ep(base: str, seat: str, won: bool, ret: float, status: str = "ok") -> Episode:
        step = Step(observation=Observation("o"), action="a", reward=ret, done=True,
                    info={"won": won})
        return Episode(f"{base}/{seat}", "g", task, seat=seat, steps=[step], status=status,
                       metrics={"base_id": base})

    group = EpisodeGroup("g", task, [ep("g/0", "a", True, 1.0), ep("g/0", "b", True, 3.0),
                                     ep("g/1", "a", False, -1.0),
                                     ep("g/1", "b", True, 5.0, status="env_error")])
    tally = game_tally([group])
    assert (tally.games, tally.won, tally.failed) == (2, 1, 1)
    assert tally.total_return == pytest.approx((1.0 + 3.0) / 2 + (-1.0 + 5.0) / 2)
    assert game_results([group]) == (1, 2)


def test_winners_credit_every_seat_without_seating() -> None:
    groups = _run("werewolf", TASKS[:4], make_scripted_policy("basic", host=HOST), group_size=1)
    for g in groups:
        by_team: dict[str, set[bool]] = {}
        final = [e for e in g.episodes if e.steps and e.steps[-1].info.get("winner")]
        assert len(final) == 1  # the seat that made the last move saw the end
        for e in g.episodes:
            if e.steps:
                role = e.steps[0].observation.text.split("your role is ")[1].split(".")[0]
                team = "werewolves" if role == "Werewolf" else "village"
                by_team.setdefault(team, set()).add(e.won)
        assert {frozenset(v) for v in by_team.values()} == {frozenset({True}),
                                                            frozenset({False})}


def test_config_section_validates_seats() -> None:
    cfg = load_config(None, ["env.name=werewolf", "rollout.seats.learner=[team=village]",
                             "rollout.seats.opponents=[scripted:basic]"])
    assert cfg.rollout.seats.group_by == "role"
    with pytest.raises(ConfigError, match=r"seat selector .role=.: key=value needs both sides"):
        load_config(None, ["rollout.seats.learner=[role=]"])
    with pytest.raises(ConfigError, match="must look like BACKEND:SPEC"):
        load_config(None, ["rollout.seats.opponents=[basic]"])
    with pytest.raises(ConfigError, match="unknown policy backend 'robot'"):
        load_config(None, ["rollout.seats.opponents=[robot:basic]"])
    assert RunConfig().rollout.seats is None


def test_another_policy_object_plays_the_other_seats_with_real_prompts() -> None:
    """An opponent that is a model (here a recording stand-in that wants prompts, like a frozen
    copy of the learner) gets rendered prompts, and its turns are not recorded."""
    opponent = Recording("bus")
    learner = Recording()
    seating = Seating(("team=village",), (LineUp("frozen copy", (("*", opponent),)),), "role")
    groups = _run("werewolf", TASKS[:4], learner, group_size=1,
                  config=RolloutConfig(seats=seating))
    assert sum(opponent.asked.values()) > 0
    assert opponent.prompts == sum(opponent.asked.values())
    recorded = {e.id for g in groups for e in g.episodes}
    assert not recorded & set(opponent.asked)
    assert {e.metrics["lineup"] for g in groups for e in g.episodes} == {"frozen copy"}


def test_opponent_policies_get_their_episode_and_rollout_ends() -> None:
    """An opponent's ``end_episode`` is called for each episode id it played, its
    ``end_rollout`` once at the end of ``run_groups``, and a failing ``end_episode`` costs no
    episode."""
    class Stateful(Recording):
        def __init__(self) -> None:
            super().__init__("bus")
            self.ended: list[str] = []
            self.rollouts_ended = 0

        def end_episode(self, episode_id: str) -> None:
            self.ended.append(episode_id)
            raise RuntimeError("clean-up bug")

        async def end_rollout(self) -> None:
            self.rollouts_ended += 1

    opponent = Stateful()
    seating = Seating(("team=village",), (LineUp("stateful", (("*", opponent),)),), "role")
    groups = _run("werewolf", TASKS[:3], Recording(), group_size=1,
                  config=RolloutConfig(seats=seating))
    assert all(e.status == "ok" for g in groups for e in g.episodes)
    assert set(opponent.asked) <= set(opponent.ended)  # every wolf seat it played was ended
    assert len(opponent.ended) == 3 * 2  # two wolf seats in each of the three games
    assert opponent.rollouts_ended == 1
