"""The game itself: a seeded, synchronous state machine over the rules in ``rules.py``.

One ``Game`` is one game. ``turn`` is the pending ``Turn`` (who acts, and what kind of act);
``act(text)`` applies one reply and advances until the next seat must act (or the game ends).
Everything random (roles, tie-breaks, random speaking orders) draws from one
``random.Random`` seeded by the game's seed, so a replay with the same seed and the same
replies is identical.

Order of play: night (wolves: proposals then the decision, or a plurality vote; then the Seer,
Doctor, Guard, Witch), dawn (deaths announced without roles; win check), discussion
(``discussion_rounds`` passes over the living), simultaneous votes (hidden until all voted),
exile (win check), next night. A game with no winner after ``max_rounds`` days is a draw.

Bad replies never stall the game: the turn takes its documented default and play moves on.
Defaults: a wolf's bad proposal proposes nobody; a bad decision keeps the last valid proposal
(else nobody is attacked); a bad wolf vote, Seer, Doctor, Guard or Witch act does nothing; an
empty statement says nothing; a bad vote counts as no vote.

``events`` is a machine-readable record of what happened (acts, results, deaths, tallies),
used by the property tests to check the rules without reading the text.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from turnrl.plugins.werewolf import actions as A
from turnrl.plugins.werewolf.log import SeatLogs, seats_text, turn_prompt
from turnrl.plugins.werewolf.rewards import Payoffs
from turnrl.plugins.werewolf.rules import (
    DOCTOR,
    GUARD,
    SEER,
    TEAM,
    VILLAGE,
    WEREWOLF,
    WITCH,
    WOLVES,
    Rules,
)

NIGHT_KINDS = ("propose", "kill", "wolfvote", "see", "save", "protect", "witch")
PHASE_OF = {**dict.fromkeys(NIGHT_KINDS, "night"), "speak": "discussion", "vote": "vote"}


@dataclass(slots=True, frozen=True)
class Turn:
    player: int
    kind: str
    """propose | kill | wolfvote | see | save | protect | witch | speak | vote"""


@dataclass(slots=True)
class Outcome:
    """What one ``act`` did: validity, the answer to a bad reply, and the rewards it paid."""

    valid: bool
    error: str = ""
    payoffs: Payoffs = field(default_factory=Payoffs)


class Game:
    def __init__(self, rules: Rules, seed: int, roles: Sequence[str] | None = None, *,
                 list_actions: bool = True) -> None:
        self.rules = rules
        self.list_actions = list_actions
        """False: the turn's prompt line does not repeat the legal actions (for prompt
        templates that list ``Observation.actions`` themselves)."""
        self.rng = random.Random(f"werewolf/{seed}")
        self.roles: list[str] = rules.deck()
        self.rng.shuffle(self.roles)
        if roles is not None:  # a fixed deal (tests, curated panels): the same cards
            if sorted(roles) != sorted(self.roles):
                raise ValueError(f"werewolf: roles {list(roles)} are not the deal of these "
                                 f"rules ({sorted(self.roles)})")
            self.roles = list(roles)
        self.n = rules.players
        self.alive = [True] * self.n
        self.wolves = [p for p in range(self.n) if self.roles[p] == WEREWOLF]
        self.roles_in_game = sorted(set(self.roles))
        self.round = 1
        self.winner: str | None = None
        self.over = False
        self.truncated = False
        self.logs = SeatLogs(self.n)
        self.events: list[tuple[Any, ...]] = [("roles", tuple(self.roles))]
        self.queue: deque[Turn] = deque()
        self.seen: dict[int, dict[int, bool]] = {}  # seer -> target -> is a wolf
        self.antidote = self.poison = rules.witch
        self.last_protected: int | None = None
        self._payoffs = Payoffs()
        self._start_night()

    # ------------------------------------------------------------------ views
    @property
    def turn(self) -> Turn | None:
        return self.queue[0] if self.queue else None

    def living(self) -> list[int]:
        return [p for p in range(self.n) if self.alive[p]]

    def team(self, p: int) -> str:
        return TEAM[self.roles[p]]

    def teammates(self, p: int) -> list[int]:
        return [w for w in self.wolves if w != p] if self.roles[p] == WEREWOLF else []

    def legal(self, turn: Turn) -> list[str]:
        """The legal actions of ``turn`` (the canned statements for ``speak``)."""
        p, kind, living = turn.player, turn.kind, self.living()
        if kind in ("propose", "kill", "wolfvote"):
            return A.targeted("kill", [t for t in living if self.roles[t] != WEREWOLF])
        if kind == "see":
            return A.targeted("see", [t for t in living if t != p])
        if kind == "save":
            return A.targeted("save", [t for t in living
                                       if t != p or self.rules.doctor_self_save])
        if kind == "protect":
            return A.targeted("protect", [t for t in living if t != self.last_protected])
        if kind == "witch":
            return A.witch_actions(self.victim, [t for t in living if t != p],
                                   antidote=self.antidote, poison=self.poison)
        if kind == "vote":
            return A.vote_actions([t for t in living if t != p or self.rules.self_vote],
                                  self.rules.abstain)
        return A.canned_statements([t for t in living if t != p], self.roles_in_game)

    def phase_text(self) -> str:
        turn = self.turn
        kind = turn.kind if turn else "over"
        if PHASE_OF.get(kind) == "discussion":
            return f"day {self.round} discussion"
        if PHASE_OF.get(kind) == "vote":
            return f"day {self.round} voting"
        return f"night {self.round}" if kind != "over" else f"game over after round {self.round}"

    def observe(self, p: int) -> str:
        """Seat ``p``'s observation: its log, ending with its legal actions when it acts."""
        turn = self.turn
        prompt = turn_prompt(self, turn) if turn is not None and turn.player == p else ""
        return self.logs.render(p, self.roles[p], self.teammates(p), self.phase_text(),
                                self.living(), prompt)

    def state_key(self, p: int) -> str:
        """Role, round, phase, alive set and own knowledge of seat ``p`` (no chat text)."""
        turn = self.turn
        kind = turn.kind if turn is not None and turn.player == p else "wait"
        alive = "".join("1" if a else "0" for a in self.alive)
        know = ""
        role = self.roles[p]
        if role == WEREWOLF:
            props = ",".join(f"{w}>{t}" for w, t in sorted(self.proposals.items()))
            know = f"tm={','.join(map(str, self.teammates(p)))};prop={props}"
        elif role == SEER:
            know = "seen=" + ",".join(f"{t}{'W' if w else 'V'}"
                                      for t, w in sorted(self.seen.get(p, {}).items()))
        elif role == WITCH:
            know = f"pot={'A' if self.antidote else ''}{'P' if self.poison else ''};" \
                   f"atk={self.victim if kind == 'witch' else ''}"
        elif role == GUARD:
            know = f"last={self.last_protected}"
        return f"{A.seat(p)}|{role}|{kind}{self.round}|{alive}|{know}"

    # ------------------------------------------------------------------ acting
    def act(self, text: str) -> Outcome:
        """Apply the pending seat's reply; advance to the next seat that must act."""
        turn = self.queue.popleft()
        self._payoffs = Payoffs()
        self.events.append(("act", turn.player, turn.kind, self.alive[turn.player]))
        if turn.kind == "speak":
            parsed = A.parse_statement(text, self.rules.statement_max_chars)
        else:
            parsed = A.parse_choice(text, self.legal(turn))
        getattr(self, f"_do_{turn.kind}")(turn, parsed.action, parsed.error)
        if not self.queue and not self.over:
            self._end_phase(turn.kind)
        return Outcome(parsed.error == "", parsed.error, self._payoffs)

    def _refused(self, turn: Turn, action: str | None, error: str, default: str) -> bool:
        """Log a refused night act to its actor (``True`` when refused)."""
        if action is not None:
            return False
        self.logs.add((turn.player,), self.round,
                      f"• night {self.round}: your action was refused ({error}); {default}.")
        return True

    def _do_propose(self, turn: Turn, action: str | None, error: str) -> None:
        if self._refused(turn, action, error, "you proposed nobody"):
            return
        target = _target(action)
        self.proposals[turn.player] = target
        self.logs.add_each(self.wolves, self.round,
                           f"• night {self.round}: you proposed to kill {A.seat(target)}.",
                           f"• night {self.round}: {A.seat(turn.player)} proposed to kill "
                           f"{A.seat(target)}.", turn.player)

    def _do_kill(self, turn: Turn, action: str | None, error: str) -> None:
        if action is None:
            last = list(self.proposals.values())[-1:] or [None]
            self.victim = last[0]
            default = (f"the proposal to kill {A.seat(self.victim)} stands"
                       if self.victim is not None else "nobody is attacked")
            self._refused(turn, action, error, default)
        else:
            self.victim = _target(action)
        if self.victim is not None:
            self.logs.add_each(self.wolves, self.round,
                               f"• night {self.round}: you chose to kill {A.seat(self.victim)}.",
                               f"• night {self.round}: {A.seat(turn.player)} chose to kill "
                               f"{A.seat(self.victim)}.", turn.player)
        self.events.append(("attack", self.victim))

    def _do_wolfvote(self, turn: Turn, action: str | None, error: str) -> None:
        if not self._refused(turn, action, error, "your vote is not counted"):
            target = _target(action)
            self.proposals[turn.player] = target
            self.logs.add_each(self.wolves, self.round,
                               f"• night {self.round}: you voted to kill {A.seat(target)}.",
                               f"• night {self.round}: {A.seat(turn.player)} voted to kill "
                               f"{A.seat(target)}.", turn.player)
        if not self.queue or self.queue[0].kind != "wolfvote":  # the last wolf has voted
            self.victim = self._plurality(Counter(self.proposals.values()), tie_break=True)
            if self.victim is not None:
                self.logs.add(self.wolves, self.round, f"• night {self.round}: the werewolves "
                              f"chose to kill {A.seat(self.victim)}.")
            self.events.append(("attack", self.victim))

    def _do_see(self, turn: Turn, action: str | None, error: str) -> None:
        if self._refused(turn, action, error, "you saw nobody"):
            return
        target = _target(action)
        wolf = self.roles[target] == WEREWOLF
        self.seen.setdefault(turn.player, {})[target] = wolf
        self.events.append(("seen", turn.player, target, wolf))
        self.logs.add((turn.player,), self.round,
                      f"• night {self.round}: you chose to see {A.seat(target)}: "
                      f"{A.seat(target)} is {'a' if wolf else 'not a'} Werewolf.")

    def _do_save(self, turn: Turn, action: str | None, error: str) -> None:
        if not self._refused(turn, action, error, "you saved nobody"):
            self._protect(turn, _target(action), "save")

    def _do_protect(self, turn: Turn, action: str | None, error: str) -> None:
        self.last_protected = None
        if not self._refused(turn, action, error, "you protected nobody"):
            self.last_protected = _target(action)
            self._protect(turn, self.last_protected, "protect")

    def _protect(self, turn: Turn, target: int, verb: str) -> None:
        self.protected.add(target)
        self.events.append(("protect", turn.player, target))
        self.logs.add((turn.player,), self.round,
                      f"• night {self.round}: you chose to {verb} {A.seat(target)}.")

    def _do_witch(self, turn: Turn, action: str | None, error: str) -> None:
        if self._refused(turn, action, error, "you did nothing"):
            return
        if action == A.DO_NOTHING:
            line = "you chose to do nothing"
        elif action.startswith("save"):
            self.antidote = False
            self.protected.add(_target(action))
            self.events.append(("protect", turn.player, _target(action)))
            line = f"you chose to save {A.seat(_target(action))}"
        else:
            self.poison = False
            self.poisoned = _target(action)
            self.events.append(("poison", turn.player, self.poisoned))
            line = f"you chose to poison {A.seat(self.poisoned)}"
        self.logs.add((turn.player,), self.round, f"• night {self.round}: {line}.")

    def _do_speak(self, turn: Turn, action: str | None, error: str) -> None:
        said = action if action is not None else "(nothing)"
        self.logs.add_each(range(self.n), self.round, f"  – you said: {said}",
                           f"  – {A.seat(turn.player)} said: {said}", turn.player)

    def _do_vote(self, turn: Turn, action: str | None, error: str) -> None:
        target = _target(action) if action is not None and action != A.DO_NOT_VOTE else None
        if action is None:
            self.logs.add((turn.player,), self.round, f"• day {self.round}: your vote was "
                          f"refused ({error}); it counts as no vote.")
        self.votes[turn.player] = target
        self.events.append(("vote", turn.player, target))

    # ------------------------------------------------------------------ phases
    def _start_night(self) -> None:
        self.proposals: dict[int, int] = {}
        self.victim: int | None = None
        self.protected: set[int] = set()
        self.poisoned: int | None = None
        self.events.append(("night", self.round))
        wolves = [w for w in self.wolves if self.alive[w]]
        if self.rules.wolf_decision == "plurality":
            turns = [Turn(w, "wolfvote") for w in wolves]
        else:
            turns = [Turn(w, "propose") for w in wolves[:-1]] + [Turn(wolves[-1], "kill")]
        for role, kind in ((SEER, "see"), (DOCTOR, "save"), (GUARD, "protect"),
                           (WITCH, "witch")):
            turns += [Turn(p, kind) for p in self.living() if self.roles[p] == role]
        self.queue.extend(turns)

    def _end_phase(self, kind: str) -> None:
        if PHASE_OF[kind] == "night":
            self._dawn()
        elif kind == "speak":
            self._start_vote()
        else:
            self._resolve_votes()

    def _dawn(self) -> None:
        if self.rules.kill_needs_doctor_or_seer and not any(
                self.alive[p] and self.roles[p] in (DOCTOR, SEER) for p in range(self.n)):
            self.victim = None  # TextArena 0.7.4 never resolves this night's kill
        dead = [self.victim] if self.victim is not None and self.victim not in self.protected \
            else []
        if self.poisoned is not None and self.poisoned not in dead:
            dead.append(self.poisoned)
        dead.sort()
        self.events.append(("dawn", self.round, tuple(dead)))
        for p in dead:
            self._die(p, "night")
        if not dead:
            news = "no player was killed last night."
        else:
            news = f"{seats_text(dead)} {'was' if len(dead) == 1 else 'were'} killed last night."
        self.logs.add(range(self.n), self.round, f"• day {self.round} announcement: {news}")
        if self._check_win():
            return
        order = self.living()
        if self.rules.speaking_order == "random":
            self.rng.shuffle(order)
        self.logs.add(range(self.n), self.round, f"• day {self.round} discussion:")
        self.queue.extend(Turn(p, "speak") for _ in range(self.rules.discussion_rounds)
                          for p in order)

    def _start_vote(self) -> None:
        self.votes: dict[int, int | None] = {}
        self.queue.extend(Turn(p, "vote") for p in self.living())

    def _resolve_votes(self) -> None:
        tally = Counter(t for t in self.votes.values() if t is not None)
        living = len(self.living())
        exiled = self._plurality(tally, tie_break=self.rules.tie_break == "random")
        why = "no votes" if not tally else "a tie"
        if exiled is not None and self.rules.exile == "majority" \
                and tally[exiled] * 2 <= living:
            exiled, why = None, "no majority"
        self.events.append(("exile", exiled, dict(self.votes)))
        for voter, target in self.votes.items():
            if target is not None and self.team(voter) == VILLAGE:
                self._payoffs.shaped_add(voter, 20.0 if self.roles[target] == WEREWOLF
                                         else -20.0)
        if exiled is None:
            result = f"no player was eliminated ({why})."
        else:
            result = f"{A.seat(exiled)} had the most votes and was eliminated."
        lines = [f"• day {self.round} voting result: {result}"]
        for target, _ in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])):
            voters = [v for v, t in self.votes.items() if t == target]
            lines.append(f"  – voted for {A.seat(target)}: {seats_text(voters)}.")
        abstained = [v for v, t in self.votes.items() if t is None]
        if abstained:
            lines.append(f"  – choose not to vote: {seats_text(abstained)}.")
        for line in lines:
            self.logs.add(range(self.n), self.round, line)
        if exiled is not None:
            self._die(exiled, "exile")
            self._payoffs.shaped_add(exiled, -10.0)
            for p in self.living():
                self._payoffs.shaped_add(p, 5.0 if self.team(p) != self.team(exiled) else -5.0)
        for p in self.living():
            self._payoffs.shaped_add(p, 5.0)  # survived the round
        if self._check_win():
            return
        if self.round >= self.rules.max_rounds:
            self._end(None, f"no side won within {self.rules.max_rounds} rounds (a draw)")
            self.truncated = True
            return
        self.round += 1
        self._start_night()

    def _plurality(self, tally: Counter[int], *, tie_break: bool) -> int | None:
        if not tally:
            return None
        top = max(tally.values())
        tied = sorted(t for t, c in tally.items() if c == top)
        if len(tied) == 1:
            return tied[0]
        return self.rng.choice(tied) if tie_break else None

    def _die(self, p: int, cause: str) -> None:
        self.alive[p] = False
        self.events.append(("death", p, cause))

    def _check_win(self) -> bool:
        wolves = sum(self.alive[w] for w in self.wolves)
        others = sum(self.alive) - wolves
        if wolves == 0:
            self._end(VILLAGE, "all werewolves were eliminated")
        elif wolves >= others:
            self._end(WOLVES, "the werewolves equal the other living players")
        return self.over

    def _end(self, winner: str | None, why: str) -> None:
        self.over, self.winner = True, winner
        self.queue.clear()
        self.events.append(("end", winner))
        side = {VILLAGE: "the village wins", WOLVES: "the werewolves win"}.get(winner, "draw")
        self.logs.add(range(self.n), self.round, f"• game over: {side} ({why}).")
        if winner is not None:
            for p in range(self.n):
                self._payoffs.outcome(p, self.team(p) == winner)


def _target(action: str | None) -> int:
    assert action is not None
    return int(action.rsplit("_", 1)[1])
