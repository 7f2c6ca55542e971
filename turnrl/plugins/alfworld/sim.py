"""``AlfworldSim``: the embedded pure-Python ALFWorld backend (the default).

Plays a generated task with ``World`` and wraps it in the ``Env`` contract: score 1 on a win
(or verl-agent's ``10 x won`` with ``reward="verl"``), termination on a win, truncation after
``max_steps`` (50, as verl-agent's ALFWorld config), ``Nothing happens.`` for anything outside
the admissible list (the real engine's answer; the step still counts toward truncation).
"""

from __future__ import annotations

from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.alfworld import text
from turnrl.plugins.alfworld.world import World

REWARDS = {"score": 1.0, "verl": 10.0}
MAX_STEPS = 50


def reward_scale(reward: str) -> float:
    if reward not in REWARDS:
        raise ValueError(f"alfworld reward must be one of {sorted(REWARDS)}, got {reward!r}")
    return REWARDS[reward]


class AlfworldSim:
    """Async ``Env`` over ``World``; one instance plays one episode at a time."""

    def __init__(self, *, max_steps: int = MAX_STEPS, reward: str = "score",
                 put_verb: str = "move", accept_legacy_put: bool = True) -> None:
        if max_steps < 1:
            raise ValueError(f"alfworld max_steps must be >= 1, got {max_steps}")
        if put_verb not in text.PUT_VERBS:
            raise ValueError(f"alfworld put_verb must be one of {text.PUT_VERBS}, got {put_verb!r}")
        self.max_steps = max_steps
        self.win_reward = reward_scale(reward)
        self.put_verb = put_verb
        self.accept_legacy_put = accept_legacy_put
        self.world: World | None = None
        self.t = 0
        self.closed = False

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        """Start ``task``. ``seed`` is accepted for the protocol and unused: a generated task
        fixes the whole world, and the dynamics are deterministic (as in the real engine)."""
        if self.closed:
            raise RuntimeError("AlfworldSim.reset called after close()")
        if "gamefile" in task.data:
            raise ValueError(f"task {task.id} is an official ALFWorld game; only "
                             "backend='textworld' can play it")
        self.world = World(task.data, put_verb=self.put_verb)
        self.t = 0
        return self._observe(self.world.intro())

    async def step(self, action: str) -> Transition:
        world = self.world
        if world is None:
            raise RuntimeError("AlfworldSim.step called before reset()")
        self.t += 1
        command = action.strip()
        feedback = world.apply(command)
        if feedback is None and self.accept_legacy_put:
            alias = text.canonical_put(command, self.put_verb)
            feedback = world.apply(alias) if alias else None
        valid = feedback is not None
        if feedback is None:
            feedback = text.NOTHING_HAPPENS
        won = world.won()
        return Transition(
            observation=self._observe(feedback),
            reward=self.win_reward if won else 0.0,
            terminated=won,
            truncated=not won and self.t >= self.max_steps,
            info={"won": won, "valid_action": valid, "task_type": world.task_type},
        )

    async def close(self) -> None:
        self.closed = True

    def _observe(self, feedback: str) -> Observation:
        assert self.world is not None
        return Observation(text=feedback, state_key=self.world.state_key(),
                           actions=tuple(self.world.admissible()))
