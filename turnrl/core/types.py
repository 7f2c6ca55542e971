"""The episode contract: the typed records every part of turnrl passes around.

Slotted dataclasses rather than pydantic models: these objects are created once per
environment step in the rollout hot path, so they check their invariants in
``__post_init__`` (cheap) instead of running a full validator. Each type round-trips through
JSON with ``to_dict`` / ``from_dict`` so the episode store and the trainer never pickle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = Any
EpisodeStatus = Literal["ok", "truncated", "env_error", "policy_error", "timeout"]
EPISODE_STATUSES: tuple[str, ...] = ("ok", "truncated", "env_error", "policy_error", "timeout")


class ContractError(ValueError):
    """An object broke the episode contract (wrong type, NaN reward, mixed group...)."""


def _check_str(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise ContractError(f"{what} must be str, got {type(value).__name__}: {value!r}")


@dataclass(slots=True, frozen=True)
class Observation:
    """What the agent sees before acting.

    ``state_key`` fingerprints the environment state *without history* (position, visible facts);
    GiGPO / HGPO / SALT match steps across the episodes of a group by it. ``actions`` lists the
    admissible actions when the environment knows them. ``agent`` names the seat that must act
    in a multi-agent game. ``images`` are base64-encoded PNGs (JSON-safe) for GUI environments.
    """

    text: str
    state_key: str | None = None
    actions: tuple[str, ...] | None = None
    agent: str | None = None
    images: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_str(self.text, "Observation.text")
        if self.state_key is not None:
            _check_str(self.state_key, "Observation.state_key")
        if self.actions is not None:
            if not isinstance(self.actions, tuple):
                object.__setattr__(self, "actions", tuple(self.actions))
            for a in self.actions:  # type: ignore[union-attr]
                _check_str(a, "Observation.actions[i]")
        if not isinstance(self.images, tuple):
            object.__setattr__(self, "images", tuple(self.images))

    def to_dict(self) -> dict[str, JSON]:
        return {
            "text": self.text,
            "state_key": self.state_key,
            "actions": list(self.actions) if self.actions is not None else None,
            "agent": self.agent,
            "images": list(self.images),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, JSON]) -> Observation:
        actions = d.get("actions")
        return cls(
            text=d["text"],
            state_key=d.get("state_key"),
            actions=tuple(actions) if actions is not None else None,
            agent=d.get("agent"),
            images=tuple(d.get("images") or ()),
        )


@dataclass(slots=True, frozen=True)
class Transition:
    """The environment's answer to one action (Gymnasium's split of terminated/truncated)."""

    observation: Observation
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    info: dict[str, JSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.observation, Observation):
            raise ContractError(
                f"Transition.observation must be Observation, got {type(self.observation).__name__}"
            )
        reward = float(self.reward)
        if not math.isfinite(reward):
            raise ContractError(f"Transition.reward must be finite, got {self.reward!r}")
        object.__setattr__(self, "reward", reward)
        if not isinstance(self.info, dict):
            raise ContractError(f"Transition.info must be a dict, got {type(self.info).__name__}")

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated


@dataclass(slots=True, frozen=True)
class Task:
    """One fixed start: an environment name, a stable id, its split, a seed and JSON data.

    Panels are lists of tasks that are identical on every machine, whatever the worker count.
    """

    env: str
    id: str
    split: str = "train"
    seed: int = 0
    data: dict[str, JSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_str(self.env, "Task.env")
        _check_str(self.id, "Task.id")
        _check_str(self.split, "Task.split")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ContractError(f"Task.seed must be int, got {self.seed!r}")

    def to_dict(self) -> dict[str, JSON]:
        return {"env": self.env, "id": self.id, "split": self.split, "seed": self.seed,
                "data": self.data}

    @classmethod
    def from_dict(cls, d: Mapping[str, JSON]) -> Task:
        return cls(env=d["env"], id=d["id"], split=d.get("split", "train"),
                   seed=int(d.get("seed", 0)), data=dict(d.get("data") or {}))


@dataclass(slots=True)
class Step:
    """One turn of one seat: what it saw, what it did, and the model-side token record.

    ``prompt_ids`` / ``response_ids`` / ``response_logprobs`` come straight from the inference
    backend so the trainer never re-tokenises text. ``loss_mask`` is 1 when this turn is trained
    on and counted by estimators, 0 when it must vanish (padding, void turns, errored episodes).
    """

    observation: Observation
    action: str
    reward: float = 0.0
    done: bool = False
    valid: bool = True
    state_key: str | None = None
    prompt_ids: list[int] = field(default_factory=list)
    response_ids: list[int] = field(default_factory=list)
    response_logprobs: list[float] = field(default_factory=list)
    loss_mask: int = 1
    info: dict[str, JSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_str(self.action, "Step.action")
        self.reward = float(self.reward)
        if not math.isfinite(self.reward):
            raise ContractError(f"Step.reward must be finite, got {self.reward!r}")
        if self.loss_mask not in (0, 1):
            raise ContractError(f"Step.loss_mask must be 0 or 1, got {self.loss_mask!r}")
        if self.response_logprobs and len(self.response_logprobs) != len(self.response_ids):
            raise ContractError(
                f"Step.response_logprobs has {len(self.response_logprobs)} entries for "
                f"{len(self.response_ids)} response tokens"
            )

    def to_dict(self) -> dict[str, JSON]:
        return {
            "observation": self.observation.to_dict(),
            "action": self.action,
            "reward": self.reward,
            "done": self.done,
            "valid": self.valid,
            "state_key": self.state_key,
            "prompt_ids": list(self.prompt_ids),
            "response_ids": list(self.response_ids),
            "response_logprobs": list(self.response_logprobs),
            "loss_mask": self.loss_mask,
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, JSON]) -> Step:
        return cls(
            observation=Observation.from_dict(d["observation"]),
            action=d["action"],
            reward=d.get("reward", 0.0),
            done=bool(d.get("done", False)),
            valid=bool(d.get("valid", True)),
            state_key=d.get("state_key"),
            prompt_ids=list(d.get("prompt_ids") or []),
            response_ids=list(d.get("response_ids") or []),
            response_logprobs=list(d.get("response_logprobs") or []),
            loss_mask=int(d.get("loss_mask", 1)),
            info=dict(d.get("info") or {}),
        )


@dataclass(slots=True)
class Episode:
    """One trajectory of one seat. A failed episode is kept, with its status and error text."""

    id: str
    group_id: str
    task: Task
    seat: str = "agent"
    steps: list[Step] = field(default_factory=list)
    status: EpisodeStatus = "ok"
    error: str = ""
    metrics: dict[str, JSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_str(self.id, "Episode.id")
        _check_str(self.group_id, "Episode.group_id")
        if self.status not in EPISODE_STATUSES:
            raise ContractError(
                f"Episode.status must be one of {EPISODE_STATUSES}, got {self.status!r}"
            )

    @property
    def total_reward(self) -> float:
        """The steps' rewards; for a seat that never acted (a multi-agent player killed before
        its first turn), what the game paid it, kept in ``metrics["total_reward"]``."""
        if not self.steps:
            return float(self.metrics.get("total_reward", 0.0))  # type: ignore[arg-type]
        return float(sum(s.reward for s in self.steps))

    @property
    def won(self) -> bool:
        """True when the environment reported ``won`` on the last step (for a seat that never
        acted: the game's verdict on it, ``metrics["won"]``)."""
        if not self.steps:
            return bool(self.metrics.get("won", False))
        return bool(self.steps[-1].info.get("won", False))

    def to_dict(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "group_id": self.group_id,
            "task": self.task.to_dict(),
            "seat": self.seat,
            "steps": [s.to_dict() for s in self.steps],
            "status": self.status,
            "error": self.error,
            "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, JSON]) -> Episode:
        return cls(
            id=d["id"],
            group_id=d["group_id"],
            task=Task.from_dict(d["task"]),
            seat=d.get("seat", "agent"),
            steps=[Step.from_dict(s) for s in d.get("steps") or []],
            status=d.get("status", "ok"),
            error=d.get("error", ""),
            metrics=dict(d.get("metrics") or {}),
        )


@dataclass(slots=True)
class EpisodeGroup:
    """The K episodes played from one identical start (same task, same seed).

    Grouped estimators (GRPO, GiGPO, HGPO, ...) are only correct on such groups, so the
    constructor refuses a group that mixes tasks, seeds or group ids.
    """

    group_id: str
    task: Task
    episodes: list[Episode] = field(default_factory=list)

    def __post_init__(self) -> None:
        for ep in self.episodes:
            self._check_member(ep)

    def _check_member(self, ep: Episode) -> None:
        if ep.group_id != self.group_id:
            raise ContractError(
                f"episode {ep.id} has group_id {ep.group_id!r}, group is {self.group_id!r}"
            )
        if ep.task.id != self.task.id or ep.task.seed != self.task.seed:
            raise ContractError(
                f"episode {ep.id} was played on task {ep.task.id}/seed {ep.task.seed}, "
                f"group {self.group_id} is task {self.task.id}/seed {self.task.seed}"
            )

    def append(self, ep: Episode) -> None:
        self._check_member(ep)
        self.episodes.append(ep)

    def to_dict(self) -> dict[str, JSON]:
        return {"group_id": self.group_id, "task": self.task.to_dict(),
                "episodes": [e.to_dict() for e in self.episodes]}

    @classmethod
    def from_dict(cls, d: Mapping[str, JSON]) -> EpisodeGroup:
        return cls(group_id=d["group_id"], task=Task.from_dict(d["task"]),
                   episodes=[Episode.from_dict(e) for e in d.get("episodes") or []])

    @classmethod
    def from_episodes(cls, episodes: Sequence[Episode]) -> list[EpisodeGroup]:
        """Group episodes by ``group_id`` in first-seen order."""
        groups: dict[str, EpisodeGroup] = {}
        for ep in episodes:
            g = groups.get(ep.group_id)
            if g is None:
                g = groups[ep.group_id] = cls(group_id=ep.group_id, task=ep.task)
            g.append(ep)
        return list(groups.values())
