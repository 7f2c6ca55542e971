"""Shared helpers for the werewolf tests: fixed deals and scripted replies."""

from __future__ import annotations

from collections.abc import Sequence

from turnrl.plugins.werewolf.game import Game
from turnrl.plugins.werewolf.rules import Rules, make_rules

W, S, D, V = "Werewolf", "Seer", "Doctor", "Villager"
# player_0 and player_3 are the wolves, player_1 the Seer, player_2 the Doctor
DEAL = (W, S, D, W, V, V, V)


def game(roles: Sequence[str] = DEAL, rules: Rules | None = None, seed: int = 0) -> Game:
    return Game(rules or make_rules(), seed, roles=roles)


def play(g: Game, *moves: tuple[int, str]) -> list:
    """Apply ``(player, reply)`` moves, checking each is the pending turn's player."""
    outcomes = []
    for player, reply in moves:
        assert g.turn is not None, f"the game is over before {player}: {reply}"
        assert g.turn.player == player, f"expected player_{player} to act, got {g.turn}"
        outcomes.append(g.act(reply))
    return outcomes


def all_speak(g: Game, text: str = "I have nothing to say.") -> None:
    while g.turn is not None and g.turn.kind == "speak":
        g.act(text)
