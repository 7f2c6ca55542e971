"""Each seat's own game log, rendered in LSPO's observation format (Xu et al. 2025, App. A.2).

A seat's log holds only what that seat may know: its role, its own night actions and results,
its wolf teammates' night choices (wolves only), and the public record (deaths, statements,
vote tallies). Lines are written once, to the seats that may see them, when the event happens;
rendering a turn's observation is a join, so a long game never re-renders its past.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from turnrl.plugins.werewolf import actions as A
from turnrl.plugins.werewolf.actions import seat
from turnrl.plugins.werewolf.rules import ARTICLE


def seats_text(players: Iterable[int]) -> str:
    return ", ".join(seat(p) for p in players)


class SeatLogs:
    """One list of lines per seat and round (round ``r`` at index ``r - 1``)."""

    __slots__ = ("lines",)

    def __init__(self, players: int) -> None:
        self.lines: list[list[list[str]]] = [[] for _ in range(players)]

    def add(self, to: Iterable[int], round_: int, line: str) -> None:
        for p in to:
            rounds = self.lines[p]
            while len(rounds) < round_:
                rounds.append([])
            rounds[round_ - 1].append(line)

    def add_each(self, to: Iterable[int], round_: int, mine: str, theirs: str,
                 actor: int) -> None:
        """``mine`` for the actor (``you ...``), ``theirs`` for every other seat in ``to``."""
        for p in to:
            self.add((p,), round_, mine if p == actor else theirs)

    def render(self, me: int, role: str, teammates: Sequence[int], phase: str,
               alive: Sequence[int], prompt: str) -> str:
        """The whole observation: basic information, the rounds so far, this turn's prompt."""
        out = ["Basic Information:",
               f"• you are {seat(me)}, your role is {role}."]
        if teammates:
            who = "teammate is" if len(teammates) == 1 else "teammates are"
            out.append(f"• your {who} {seats_text(teammates)}.")
        out.append(f"• current round and phase: {phase}.")
        out.append(f"• remaining players: {seats_text(alive)}.")
        for r, lines in enumerate(self.lines[me], 1):
            if lines:
                out.append(f"Round {r}:")
                out.extend(lines)
        if prompt:
            out.append(prompt)
        return "\n".join(out)


def as_role(role: str) -> str:
    """``the Seer`` / ``a Villager``: how LSPO's prompts name a role."""
    return f"{ARTICLE[role]} {role}"


def turn_prompt(game: Any, turn: Any) -> str:
    """The line that ends the acting seat's observation: LSPO's "Now it is ..." with the
    turn's legal actions (canned statements in the discussion)."""
    me = f"As {A.seat(turn.player)} and {as_role(game.roles[turn.player])}"
    legal = game.legal(turn)
    night = f"Now it is night {game.round} round and you should"
    ask = {
        "propose": f"{night} propose one player to kill to your "
                   f"teammate{'s' if len(game.teammates(turn.player)) > 1 else ''}",
        "kill": f"{night} choose one player to kill",
        "wolfvote": f"{night} vote for one player to kill",
        "see": f"{night} choose one player to see",
        "save": f"{night} choose one player to save",
        "protect": f"{night} choose one player to protect",
        "vote": f"Now it is day {game.round} voting and you should vote for one player"
                + (" or choose not to vote" if game.rules.abstain else ""),
    }
    if turn.kind == "speak":
        head = (f"Now it is day {game.round} discussion and you should make a statement of "
                f"at most {game.rules.statement_max_chars} characters. {me}, you may say "
                f"anything")
        if not game.list_actions:
            return f"{head}."
        return f"{head}, for example one of the following: " + ", ".join(
            f'"{s}"' for s in legal)
    if turn.kind == "witch":
        attacked = (f"{A.seat(game.victim)} was attacked tonight" if game.victim is not None
                    else "no player was attacked tonight")
        head = f"Now it is night {game.round} round, {attacked}, and you may use a potion"
    else:
        head = ask[turn.kind]
    if not game.list_actions:
        return f"{head}. {me}, you should choose one of the legal actions."
    return f"{head}. {me}, you should choose from the following actions: {', '.join(legal)}."
