"""Environment protocols and the registration record (``EnvSpec``) the host keeps for each.

Two async methods plus ``close`` (Gymnasium's shape, async because real environments wait on
engines, browsers and sandboxes). One instance plays one episode at a time; instances are cheap.
Malformed actions are never exceptions: the environment answers them the way the real benchmark
does and sets ``info["valid_action"] = False``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from turnrl.core.types import Observation, Task, Transition


@runtime_checkable
class Env(Protocol):
    """A single-agent, async, multi-turn environment."""

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        """Start the episode described by ``task``; ``seed`` overrides ``task.seed``."""
        ...

    async def step(self, action: str) -> Transition:
        """Apply one action (raw text); never raise for a malformed one."""
        ...

    async def close(self) -> None:
        """Release resources. Idempotent: a second call does nothing."""
        ...


@runtime_checkable
class MultiAgentEnv(Protocol):
    """A turn-based game: ``observation.agent`` names the seat that must act next.

    ``step`` acts for that seat; per-seat rewards arrive in ``info["rewards"]`` (seat -> float)
    and, when the game ends, ``info["winners"]`` may list the winning seats. The rollout engine
    keeps one trajectory per seat. Optionally ``seat_tags() -> {seat: {tag: value}}`` (after
    ``reset``) tells the engine hidden facts about each seat, such as its role and team, for
    seat assignment and grouping by role (``turnrl.core.seating``); it is never shown to a
    policy.
    """

    seats: Sequence[str]

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation: ...

    async def step(self, action: str) -> Transition: ...

    async def close(self) -> None: ...


@runtime_checkable
class Expert(Protocol):
    """A gold policy for one task: used by ``turnrl check``, scripted policies and SFT data."""

    def act(self, observation: Observation) -> str: ...


TaskLister = Callable[..., list[Task]]
"""``tasks(split, **options) -> list[Task]``: a fixed, machine-independent panel."""


@dataclass(slots=True)
class EnvSpec:
    """What the host records for one registered environment."""

    name: str
    plugin: str
    factory: Callable[..., Any]
    tasks: TaskLister
    description: str = ""
    splits: tuple[str, ...] = ("train",)
    expert: Callable[[Task], Expert] | None = None
    multi_agent: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
