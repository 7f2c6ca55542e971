"""``WerewolfEnv``: the game behind turnrl's multi-agent contract (``MultiAgentEnv``).

``reset`` deals the roles from the seed and returns the first seat's observation;
``step(action)`` acts for ``observation.agent``. A task may fix the deal
(``task.data["roles"]``, one role per seat). Each observation is that seat's own log in
LSPO's format ending with its legal actions (``Observation.actions``; canned statements in the
discussion), ``state_key`` is the seat's role, round, phase, alive set and own knowledge (no
chat text). ``info["rewards"]`` pays seats (``player_i``) in the ``reward`` mode chosen
(``sparse`` or ``shaped``, see ``rewards.py``); ``info["valid_action"]`` is False for a refused
reply (``info["error"]`` says why; the turn took its default). At the end
``info["winners"]`` lists the winning seats. ``seat_tags()`` tells the rollout engine each
seat's role and team (hidden information, never shown to a policy) for seat assignment and
grouping by role.
"""

from __future__ import annotations

from typing import Any

from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.werewolf.actions import seat
from turnrl.plugins.werewolf.game import PHASE_OF, Game
from turnrl.plugins.werewolf.rewards import REWARD_MODES
from turnrl.plugins.werewolf.rules import TEAM, make_rules


class WerewolfEnv:
    """One game at a time; options: ``rules`` (preset name), ``reward``, ``list_actions``
    (False: the text stops short of the legal actions, for prompt templates that list
    ``Observation.actions`` themselves, such as ``plain``), and any ``Rules`` field
    (``players=9``, ``witch=True``, ``exile="majority"``, ...)."""

    def __init__(self, *, rules: str = "lspo", reward: str = "sparse", list_actions: bool = True,
                 **options: Any) -> None:
        self.rules = make_rules(rules, **options)
        self.list_actions = list_actions
        if reward not in REWARD_MODES:
            raise ValueError(f"werewolf: reward must be one of {', '.join(REWARD_MODES)}, "
                             f"got {reward!r}")
        self.reward_mode = reward
        self.other_mode = next(m for m in REWARD_MODES if m != reward)
        self.seats: tuple[str, ...] = tuple(seat(i) for i in range(self.rules.players))
        self.game: Game | None = None

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.game = Game(self.rules, task.seed if seed is None else seed,
                         roles=task.data.get("roles"), list_actions=self.list_actions)
        return self._observe()

    def seat_tags(self) -> dict[str, dict[str, str]]:
        """Each seat's ``role`` and ``team`` in the current game (for the engine only)."""
        if self.game is None:
            return {}
        return {seat(p): {"role": r, "team": TEAM[r]} for p, r in enumerate(self.game.roles)}

    async def step(self, action: str) -> Transition:
        game = self.game
        if game is None:
            raise RuntimeError("WerewolfEnv.step called before reset()")
        if game.over:
            return Transition(self._observe(), terminated=not game.truncated,
                              truncated=game.truncated,
                              info={"valid_action": False, "error": "the game is over",
                                    "rewards": {}})
        turn = game.turn
        assert turn is not None
        actor = seat(turn.player)
        outcome = game.act(action if isinstance(action, str) else "")
        rewards = {seat(p): r for p, r in outcome.payoffs.by_mode(self.reward_mode).items()}
        info: dict[str, Any] = {
            "valid_action": outcome.valid, "rewards": rewards, "phase": PHASE_OF[turn.kind],
            f"rewards_{self.other_mode}": {
                seat(p): r for p, r in outcome.payoffs.by_mode(self.other_mode).items()},
        }
        if outcome.error:
            info["error"] = outcome.error
        if game.over:
            winners = [seat(p) for p in range(game.n)
                       if game.winner is not None and TEAM[game.roles[p]] == game.winner]
            info.update(winner=game.winner, winners=winners, won=actor in winners,
                        rounds=game.round)
        return Transition(self._observe(), reward=rewards.get(actor, 0.0),
                          terminated=game.over and not game.truncated,
                          truncated=game.truncated, info=info)

    async def close(self) -> None:
        self.game = None

    def _observe(self) -> Observation:
        game = self.game
        assert game is not None
        turn = game.turn
        if turn is None:
            side = {"village": "the village wins", "werewolves": "the werewolves win"}
            roles = ", ".join(f"{seat(p)} was {r}" for p, r in enumerate(game.roles))
            return Observation(f"Game over: {side.get(game.winner or '', 'a draw')}. {roles}.",
                               actions=())
        p = turn.player
        return Observation(game.observe(p), state_key=game.state_key(p),
                           actions=tuple(game.legal(turn)), agent=seat(p))
