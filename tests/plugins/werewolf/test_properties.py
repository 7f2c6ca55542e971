"""The rules as invariants over thousands of random-legal games (hypothesis).

Each game is played with uniformly random legal replies (and some malformed ones) under a rule
set hypothesis draws; ``check_game`` then replays the event record against the rules
independently of the game's own code: dead players never act, only the right role acts, the
night's deaths are exactly the unprotected attack plus any poison (so a save stops the kill),
the Seer's results are true, the tally lines match the votes, the exile follows the tally, the
game ends exactly when a side has won (parity, or no wolves) and within ``max_rounds``.
The mutation tests prove the checker catches each kind of broken rule.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from turnrl.plugins.werewolf import game as game_module
from turnrl.plugins.werewolf.game import Game
from turnrl.plugins.werewolf.invariants import (
    InvariantError,
    check_game,
    check_random_games,
    play_random_game,
)
from turnrl.plugins.werewolf.rules import Rules, make_rules

rule_sets = st.builds(
    lambda preset, players, extras, exile, tie, rounds, wolf: make_rules(
        preset, players=players, exile=exile, tie_break=tie, max_rounds=rounds,
        wolf_decision=wolf, **extras),
    st.sampled_from(["lspo", "textarena", "textarena-exact"]),
    st.integers(6, 12),
    st.sampled_from([{}, {"witch": True}, {"guard": True}, {"witch": True, "guard": True},
                     {"doctor": False}, {"seer": False}]),
    st.sampled_from(["plurality", "majority"]),
    st.sampled_from(["random", "none"]),
    st.integers(1, 12),
    st.sampled_from(["proposer", "plurality"]),
)


def _keeps_every_rule(rules: Rules, seed: int, replies: int, malformed: float) -> None:
    game, moves = play_random_game(rules, seed, replies, malformed=malformed)
    check_game(game)
    assert len(moves) <= rules.max_rounds * (2 * rules.players + rules.players
                                             * rules.discussion_rounds)


GAME = {"rules": rule_sets, "seed": st.integers(0, 2**31 - 1),
        "replies": st.integers(0, 2**31 - 1), "malformed": st.sampled_from([0.0, 0.05, 0.3])}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**GAME)
def test_random_legal_games_keep_every_rule(rules: Rules, seed: int, replies: int,
                                            malformed: float) -> None:
    _keeps_every_rule(rules, seed, replies, malformed)


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**GAME)
def test_thousands_of_random_legal_games_keep_every_rule(rules: Rules, seed: int, replies: int,
                                                         malformed: float) -> None:
    _keeps_every_rule(rules, seed, replies, malformed)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), replies=st.integers(0, 2**31 - 1))
def test_replays_are_identical(seed: int, replies: int) -> None:
    rules = make_rules("textarena", witch=True)  # the most randomness: orders and tie-breaks
    game, moves = play_random_game(rules, seed, replies)
    again = Game(rules, seed)
    for reply in moves:
        again.act(reply)
    assert again.events == game.events
    assert [again.observe(p) for p in range(7)] == [game.observe(p) for p in range(7)]


def test_the_turnrl_check_entry_plays_every_variant() -> None:
    assert "300 random games under 6 rule sets keep the rules" in check_random_games()


def _games(n: int = 200) -> list[Game]:
    return [play_random_game(make_rules(), seed=i, reply_seed=i, malformed=0.0)[0]
            for i in range(n)]


@pytest.mark.parametrize(("patch", "rule"), [
    ("ignore_protection", "the night's deaths should be"),
    ("lying_seer", "the Seer's result is false"),
    ("lying_seer_text", "the Seer's log says"),
    ("no_parity_check", "had won but the game went on"),
    ("wrong_tally_line", "published tally"),
    ("minority_exile", "did not have the most votes"),
])
def test_the_checker_catches_broken_rules(monkeypatch: pytest.MonkeyPatch, patch: str,
                                          rule: str) -> None:
    """Each mutation breaks one rule in the game's code; the invariants must say which."""
    if patch == "ignore_protection":
        dawn = Game._dawn

        def unprotected_dawn(self):
            self.protected = set()
            dawn(self)
        monkeypatch.setattr(Game, "_dawn", unprotected_dawn)
    elif patch == "lying_seer":
        original = Game._do_see

        def lying(self, turn, action, error):
            original(self, turn, action, error)
            if action is not None:
                kind, seer, target, wolf = self.events[-1]
                self.events[-1] = (kind, seer, target, not wolf)
        monkeypatch.setattr(Game, "_do_see", lying)
    elif patch == "lying_seer_text":
        render = Game._do_see

        def lying_text(self, turn, action, error):
            render(self, turn, action, error)
            rounds = self.logs.lines[turn.player]
            if action is not None and rounds and rounds[-1]:
                line = rounds[-1][-1]
                rounds[-1][-1] = line.replace("is a W", "is not a W") if "is a W" in line \
                    else line.replace("is not a W", "is a W")
        monkeypatch.setattr(Game, "_do_see", lying_text)
    elif patch == "no_parity_check":
        def village_only(self):
            if not any(self.alive[w] for w in self.wolves):
                self._end("village", "no wolves")
            return self.over
        monkeypatch.setattr(Game, "_check_win", village_only)
    elif patch == "wrong_tally_line":
        monkeypatch.setattr(game_module, "seats_text",
                            lambda players: ", ".join(f"player_{p + 1}" for p in players))
    else:
        monkeypatch.setattr(Game, "_plurality", lambda self, tally, tie_break: min(
            tally, key=lambda t: (tally[t], t)) if tally else None)
    def check_all() -> None:
        for game in _games():
            check_game(game)

    with pytest.raises(InvariantError, match=rule):
        check_all()


def _exercised(game: Game, seen: Counter) -> None:
    """Count which rules a finished game put to the test (so the check is not vacuous)."""
    attack, protected = None, set()
    for ev in game.events:
        if ev[0] == "night":
            attack, protected = None, set()
        elif ev[0] == "attack":
            attack = ev[1]
        elif ev[0] == "protect":
            protected.add(ev[2])
        elif ev[0] == "dawn" and attack is not None and attack in protected:
            seen["a save stopped the kill"] += attack not in ev[2]
        elif ev[0] == "seen":
            seen["the Seer found a wolf" if ev[3] else "the Seer cleared a villager"] += 1
        elif ev[0] == "poison":
            seen["a poison killed"] += 1
        elif ev[0] == "exile":
            tally = Counter(t for t in ev[2].values() if t is not None)
            top = max(tally.values(), default=0)
            if sum(c == top for c in tally.values()) > 1:
                seen["a tied vote"] += 1
            if None in ev[2].values():
                seen["an abstention"] += 1
        elif ev[0] == "end":
            seen[{"werewolves": "parity ended the game", "village": "the village won",
                  None: "a draw at max_rounds"}[ev[1]]] += 1


def test_two_thousand_random_games_keep_every_rule_and_exercise_each() -> None:
    """The default tier's "thousands": 2,000 seeded random-legal games (some malformed replies)
    across the variants ``turnrl check werewolf`` plays, each checked, and every rule the
    invariants guard came up many times."""
    seen: Counter = Counter()
    for i, opts in enumerate([{}, {"preset": "textarena"}, {"witch": True, "guard": True,
                                                           "players": 9},
                              {"exile": "majority", "tie_break": "none", "max_rounds": 3}]
                             * 500):
        rules = make_rules(opts.get("preset", "lspo"),
                           **{k: v for k, v in opts.items() if k != "preset"})
        game, _ = play_random_game(rules, seed=i, reply_seed=7 * i + 1, malformed=0.05)
        check_game(game)
        _exercised(game, seen)
    for rule in ("a save stopped the kill", "the Seer found a wolf", "the Seer cleared a villager",
                 "a poison killed", "a tied vote", "an abstention", "parity ended the game",
                 "the village won", "a draw at max_rounds"):
        assert seen[rule] >= 20, (rule, seen)
