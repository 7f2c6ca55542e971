"""Seat assignment for multi-agent games, and groups that never mix seat roles.

A ``Seating`` says which seats the learner plays and which seats other policies (rule-based
bots, a frozen copy, a model server) play:

    Seating(learner=("team=village",),
            lineups=(LineUp("basic", (("*", bots_basic),)),
                     LineUp("bus", (("team=werewolves", bots_bus), ("*", bots_basic)))),
            group_by="role")

Selectors name a seat (``player_3``), every seat (``*``), or a tag the environment reports
for the seat after ``reset`` (``role=Seer``, ``team=village``; see ``MultiAgentEnv``'s
``seat_tags``). A seat matching a learner selector is the learner's; every other seat takes the
policy of the first matching rule of the game's line-up. Each task plays one line-up, chosen by a
stable hash of the task id and seed, so the episodes of a group always meet the same opponents
and a panel of tasks meets every line-up.

Only the learner's seats become episodes (one trajectory per seat, every learner seat kept);
the other seats' turns are played but not recorded. ``group_by`` names a seat tag: the engine
splits each task group by it (``group@seed|role=Seer``), so a grouped estimator compares a Seer
with Seers of the same deal, never with a Villager. A seat the environment gives no tag falls in
the group of its seat name.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from turnrl.core.types import Episode, EpisodeGroup, Task

SeatTags = Mapping[str, Mapping[str, str]]


class SeatingError(ValueError):
    """A seat no rule covers, or a malformed selector; the message names it."""


def check_selector(selector: str) -> str:
    """``*``, a seat name, or ``key=value``; raise ``SeatingError`` otherwise."""
    if not isinstance(selector, str) or not selector.strip():
        raise SeatingError(f"seat selector {selector!r} must be a seat name, '*' or key=value")
    key, sep, value = selector.partition("=")
    if sep and (not key.strip() or not value.strip()):
        raise SeatingError(f"seat selector {selector!r}: key=value needs both sides")
    return selector.strip()


def matches(selector: str, seat: str, tags: Mapping[str, str]) -> bool:
    if selector in ("*", seat):
        return True
    key, sep, value = selector.partition("=")
    return bool(sep) and str(tags.get(key.strip(), "")).lower() == value.strip().lower()


@dataclass(frozen=True)
class LineUp:
    """The policies of the non-learner seats in one game: ``(selector, policy)`` rules."""

    name: str
    rules: tuple[tuple[str, Any], ...]

    def __post_init__(self) -> None:
        for selector, _ in self.rules:
            check_selector(selector)


@dataclass(frozen=True)
class SeatPlan:
    """Who plays each seat of one game."""

    learner: frozenset[str]
    policies: dict[str, Any]
    tags: dict[str, dict[str, str]]
    lineup: str


@dataclass(frozen=True)
class Seating:
    learner: tuple[str, ...] = ("*",)
    lineups: tuple[LineUp, ...] = ()
    group_by: str | None = "role"
    policy_names: dict[int, str] = field(default_factory=dict, compare=False)
    """``id(policy) -> spec`` for messages and metrics (filled by ``build_seating``)."""

    def __post_init__(self) -> None:
        if not self.learner:
            raise SeatingError("seating: the learner plays no seat (learner is empty)")
        for selector in self.learner:
            check_selector(selector)

    def lineup_for(self, task: Task) -> LineUp | None:
        if not self.lineups:
            return None
        key = zlib.crc32(f"{task.id}@{task.seed}".encode())
        return self.lineups[key % len(self.lineups)]

    def plan(self, task: Task, seats: Sequence[str], tags: SeatTags) -> SeatPlan:
        lineup = self.lineup_for(task)
        learner, policies = set(), {}
        for seat in seats:
            seat_tags = dict(tags.get(seat, {}))
            if any(matches(s, seat, seat_tags) for s in self.learner):
                learner.add(seat)
                continue
            rule = next((p for s, p in (lineup.rules if lineup else ())
                         if matches(s, seat, seat_tags)), None)
            if rule is None:
                described = ", ".join(f"{k}={v}" for k, v in seat_tags.items()) or "no tags"
                raise SeatingError(
                    f"seat {seat} ({described}) matches no learner selector "
                    f"{list(self.learner)} and no rule of line-up "
                    f"{lineup.name if lineup else '(none)'}")
            policies[seat] = rule
        return SeatPlan(frozenset(learner), policies,
                        {s: dict(tags.get(s, {})) for s in seats},
                        lineup.name if lineup else "")


def seat_tags_of(env: Any) -> dict[str, dict[str, str]]:
    """The environment's ``seat_tags()`` after reset (empty when it has none)."""
    fn = getattr(env, "seat_tags", None)
    tags = fn() if callable(fn) else {}
    if not isinstance(tags, Mapping):
        raise SeatingError(f"env.seat_tags() returned {type(tags).__name__}, not a mapping")
    return {str(s): {str(k): str(v) for k, v in t.items()} for s, t in tags.items()}


def credit_winners(steps_by_seat: Mapping[str, Sequence[Any]], info: Mapping[str, Any]) -> None:
    """A finished game's ``info["winners"]`` (seat names) sets ``won`` on every seat's last
    step (the acting seat's own ``info["won"]`` only speaks for that seat)."""
    winners = info.get("winners")
    if isinstance(winners, list | tuple):
        won = set(winners)
        for name, steps in steps_by_seat.items():
            if steps:
                steps[-1].info["won"] = name in won


def split_by_tag(groups: Sequence[EpisodeGroup], tag: str) -> list[EpisodeGroup]:
    """Each group split by the episodes' seat tag (``metrics["seat_tags"][tag]``, else the
    seat name): ``group_id|tag=value``, in first-seen order, episodes' ``group_id`` rewritten."""
    out: list[EpisodeGroup] = []
    for group in groups:
        parts: dict[str, EpisodeGroup] = {}
        for ep in group.episodes:
            value = (ep.metrics.get("seat_tags") or {}).get(tag) or f"seat:{ep.seat}"
            gid = f"{group.group_id}|{tag}={value}"
            part = parts.get(gid)
            if part is None:
                part = parts[gid] = EpisodeGroup(gid, group.task)
            part.append(replace(ep, group_id=gid))
        if parts:
            out.extend(parts.values())
        else:  # an empty group stays as it is
            out.append(group)
    return out


def game_results(groups: Sequence[EpisodeGroup]) -> tuple[int, int]:
    """``(won, games)`` counting each played game once (all its seats' episodes share
    ``metrics["base_id"]``): a game is won when any of its recorded seats won."""
    tally = game_tally(groups)
    return tally.won, tally.games


@dataclass(frozen=True)
class GameTally:
    """Per-game totals over some groups (a single-agent episode is one game)."""

    games: int
    won: int
    """Games any of whose recorded seats won (and did not fail)."""
    failed: int
    """Games any of whose recorded seats failed (timeout, env or policy error)."""
    total_return: float
    """Sum over games of the mean return of the game's recorded seats."""


def game_tally(groups: Sequence[EpisodeGroup]) -> GameTally:
    """Count each played game once: a multi-agent game's seats share ``metrics["base_id"]``."""
    from turnrl.core.rollout_progress import FAILED_STATUSES

    games: dict[str, list[Episode]] = {}
    for g in groups:
        for ep in g.episodes:
            games.setdefault(str(ep.metrics.get("base_id", ep.id)), []).append(ep)
    won = failed = 0
    total = 0.0
    for eps in games.values():
        won += any(_won(e) for e in eps)
        failed += any(e.status in FAILED_STATUSES for e in eps)
        total += sum(e.total_reward for e in eps) / len(eps)
    return GameTally(len(games), won, failed, total)


def _won(ep: Episode) -> bool:
    return ep.status in ("ok", "truncated") and ep.won


# ---------------------------------------------------------------------------- from config
def build_seating(learner: Sequence[str], opponents: Sequence[str | Mapping[str, str]],
                  group_by: str | None, *, env: str, host: Any,
                  template: str | None = None) -> Seating:
    """A ``Seating`` from config data: ``opponents`` entries are a policy spec
    (``BACKEND:SPEC``, e.g. ``scripted:basic``) for every non-learner seat, or
    ``{selector: spec}`` rules. Each distinct spec is built once (``host``'s policy registry,
    with the environment name and, for backends that format replies, the run's template)."""
    built: dict[str, Any] = {}

    def policy(spec: str) -> Any:
        if spec not in built:
            backend, sep, rest = str(spec).partition(":")
            if not sep:
                raise SeatingError(f"opponent policy {spec!r} must look like BACKEND:SPEC "
                                   f"(e.g. scripted:basic)")
            component = host.lookup("policies", backend)
            options: dict[str, Any] = {"env": env, "host": host}
            if template is not None and component.meta.get("formats_replies"):
                options["template"] = template
            built[spec] = component.resolve()(rest, **options)
        return built[spec]

    lineups = []
    for entry in opponents:
        rules = {"*": entry} if isinstance(entry, str) else dict(entry)
        name = str(entry) if isinstance(entry, str) else \
            ", ".join(f"{k}: {v}" for k, v in rules.items())
        lineups.append(LineUp(name, tuple((check_selector(s), policy(p))
                                          for s, p in rules.items())))
    return Seating(tuple(learner), tuple(lineups), group_by,
                   policy_names={id(p): s for s, p in built.items()})


def seat_policies(seating: Seating | None) -> list[Any]:
    """Every distinct policy of the seating's line-ups, in first-seen order."""
    seen: dict[int, Any] = {}
    for lineup in (seating.lineups if seating is not None else ()):
        for _, policy in lineup.rules:
            seen.setdefault(id(policy), policy)
    return list(seen.values())


async def close_seating(seating: Seating | None) -> None:
    """Close every policy a ``build_seating`` made (each once)."""
    for policy in seat_policies(seating):
        close = getattr(policy, "close", None)
        if close is not None:
            await close()
