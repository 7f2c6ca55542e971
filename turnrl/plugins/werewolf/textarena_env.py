"""TextArena's ``SecretMafia-v0`` behind turnrl's multi-agent contract (extra ``textarena``).

The real game (``textarena==0.7.4``, offline) plays; this adapter only translates: seats are
``player_0`` .. ``player_6`` (TextArena's player ids), each observation is TextArena's own
accumulated text for that player (``[GAME] ...`` / ``[Player k] ...`` lines from its
``LLMObservationWrapper``), ``Observation.actions`` lists the targets the game offers in its
``[k]`` format (canned statements in the discussion), and at the end ``close()``'s +1/-1 team
rewards arrive in ``info["rewards"]`` with the winning seats. A refused move (TextArena
re-asks the same player once, then eliminates them) is reported as ``valid_action=False``.

TextArena draws roles, speaking orders and tie-breaks from Python's *global* ``random``
module (``reset`` seeds it). Many games share one process and interleave between awaits, so
the adapter gives each game its own copy of the global generator state, swapped in around every
(synchronous) call into TextArena: games stay seeded and replayable under any concurrency, and
the caller's ``random`` stream is left as it was.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.werewolf.bots import bot_factory
from turnrl.plugins.werewolf.textarena_dialect import ROLE_OF, TextArenaDialect, canned

ENV_ID = "SecretMafia-v0"


def _textarena() -> Any:
    try:
        import textarena
    except ImportError:  # pragma: no cover - the env is only registered when it is installed
        raise ImportError("the secretmafia environment needs TextArena: "
                          "pip install 'turnrl[textarena]'") from None
    return textarena


class SecretMafiaEnv:
    """One TextArena game at a time; ``players`` 6-15 (7 matches LSPO's 2/1/1/3)."""

    def __init__(self, *, players: int = 7, max_turns: int = 1000) -> None:
        if not 6 <= players <= 15:
            raise ValueError(f"secretmafia: players must be 6-15, got {players}")
        self.players = players
        self.max_turns = max_turns
        self.seats: tuple[str, ...] = tuple(f"player_{i}" for i in range(players))
        self._env: Any = None
        self._random: Any = None
        self._turns = 0
        self._done = False

    @contextmanager
    def _own_random(self) -> Iterator[None]:
        outer = random.getstate()
        if self._random is not None:
            random.setstate(self._random)
        try:
            yield
        finally:
            self._random = random.getstate()
            random.setstate(outer)

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        ta = _textarena()
        self._random, self._turns, self._done = None, 0, False
        with self._own_random():
            self._env = ta.make(ENV_ID)
            self._env.reset(num_players=self.players, seed=task.seed if seed is None else seed)
        return self._observe()

    def seat_tags(self) -> dict[str, dict[str, str]]:
        """Each seat's role (in this plugin's names: Mafia -> Werewolf, Detective -> Seer)."""
        if self._env is None:
            return {}
        return {f"player_{p}": {"role": ROLE_OF[r], "team": "werewolves" if r == "Mafia"
                                else "village"} for p, r in self._game.player_roles.items()}

    @property
    def _game(self) -> Any:
        return self._env.unwrapped if hasattr(self._env, "unwrapped") else self._env

    async def step(self, action: str) -> Transition:
        if self._env is None:
            raise RuntimeError("SecretMafiaEnv.step called before reset()")
        if self._done:
            return Transition(Observation("The game is over.", actions=()), terminated=True,
                              info={"valid_action": False, "error": "the game is over",
                                    "rewards": {}})
        state = self._game.state
        pid = state.current_player_id
        was_out = state.game_info[pid]["invalid_move"]
        with self._own_random():
            done, _ = self._env.step(action if isinstance(action, str) else "")
        self._turns += 1
        invalid = state.error_count > 0 or (state.game_info[pid]["invalid_move"] and not was_out)
        info: dict[str, Any] = {"valid_action": not invalid, "rewards": {}}
        if invalid:
            info["error"] = "TextArena refused the move"
        if done:
            self._done = True
            with self._own_random():
                rewards, _ = self._env.close()
            info["rewards"] = {f"player_{p}": float(r) for p, r in rewards.items()}
            info["winners"] = [s for s, r in info["rewards"].items() if r > 0]
            info["won"] = f"player_{pid}" in info["winners"]
            return Transition(Observation(self._final_text(), actions=()),
                              reward=info["rewards"].get(f"player_{pid}", 0.0),
                              terminated=True, info=info)
        truncated = self._turns >= self.max_turns
        if truncated:
            self._done = True
        return Transition(self._observe(), truncated=truncated, info=info)

    async def close(self) -> None:
        self._env = None

    def _observe(self) -> Observation:
        with self._own_random():
            pid, text = self._env.get_observation()
        game = self._game
        alive = game.state.game_state["alive_players"]
        roles = game.player_roles
        phase = game.phase.value
        if phase == "Night-Mafia":
            targets = [p for p in alive if roles[p] != "Mafia"]
        elif phase in ("Night-Doctor", "Night-Detective"):
            targets = [p for p in alive if p != pid]
        elif phase == "Day-Voting":
            targets = list(alive)
        else:
            targets = None
        actions = [f"[{t}]" for t in targets] if targets is not None else \
            canned([p for p in alive if p != pid])
        key = f"player_{pid}|{roles[pid]}|{phase}{game.state.game_state['day_number']}|" \
              f"{''.join('1' if p in alive else '0' for p in range(self.players))}"
        return Observation(text, state_key=key, actions=tuple(actions), agent=f"player_{pid}")

    def _final_text(self) -> str:
        roles = ", ".join(f"Player {p} was {r}" for p, r in self._game.player_roles.items())
        return f"Game over. {roles}."


def make_tasks(split: str, *, n: int | None = None) -> list[Task]:
    """The werewolf plugin's seed panels, for this environment."""
    from turnrl.plugins.werewolf.tasks import make_tasks as werewolf_tasks

    return [Task(env="secretmafia", id=t.id.replace("werewolf", "secretmafia", 1),
                 split=t.split, seed=t.seed) for t in werewolf_tasks(split, n=n)]


basic, bus, quiet = (bot_factory(s, TextArenaDialect) for s in ("basic", "bus", "quiet"))
