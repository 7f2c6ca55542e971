"""The rules as invariants, checked on a finished game's event record and logs.

``check_game`` replays a game's ``events`` against the rules independently of ``game.py``'s
logic and raises ``InvariantError`` naming the first broken rule: dead players never act, only
the right role acts in each kind of turn, the night's deaths are exactly the unprotected
attack (plus the Witch's poison), the Seer's results are true, every kill and see targets a
living player, the exile follows the tally (plurality with a tie-break or nobody; strict
majority when asked), the public tally lines match the votes cast, the game ends exactly when
one side has won (parity, or no wolves left) and nothing happens after the end, within
``max_rounds``.

``play_random_game`` plays one game with random legal replies (and some malformed ones);
``check_random_games`` is the ``turnrl check werewolf`` entry (registered as a ``checks``
extra): it plays a few hundred of them under several rule sets, checks each, and checks that
replays with the same seed and replies are identical.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any

from turnrl.plugins.werewolf.game import Game
from turnrl.plugins.werewolf.rules import DOCTOR, GUARD, SEER, WEREWOLF, WITCH, Rules, make_rules

ACTOR_ROLE = {"propose": WEREWOLF, "kill": WEREWOLF, "wolfvote": WEREWOLF, "see": SEER,
              "save": DOCTOR, "protect": GUARD, "witch": WITCH}
MALFORMED = ("", "kill everyone", "vote for player_99", "x" * 400, "see player_-1",
             "<action>do not vote</action>", "do not vote please")
VARIANTS: dict[str, dict[str, Any]] = {
    "lspo": {},
    "textarena": {"preset": "textarena"},
    "textarena-exact": {"preset": "textarena-exact"},
    "witch+guard, 9 players": {"players": 9, "witch": True, "guard": True},
    "majority exile, no tie-break": {"exile": "majority", "tie_break": "none"},
    "lone wolf, 5 players": {"players": 5, "werewolves": 1, "max_rounds": 4},
}


class InvariantError(AssertionError):
    """A finished game broke a rule; the message names the rule and the event."""


def play_random_game(rules: Rules, seed: int, reply_seed: int, *,
                     malformed: float = 0.1) -> tuple[Game, list[str]]:
    """A game with uniformly random legal replies, ``malformed`` of them garbage instead."""
    game = Game(rules, seed)
    rng = random.Random(reply_seed)
    replies = []
    while not game.over:
        turn = game.turn
        assert turn is not None
        legal = game.legal(turn)
        garbage = rng.random() < malformed or not legal
        reply = rng.choice(MALFORMED) if garbage else rng.choice(legal)
        replies.append(reply)
        game.act(reply)
    return game, replies


def check_game(game: Game) -> None:
    rules, roles = game.rules, game.roles
    alive = [True] * rules.players
    wolves = {p for p, r in enumerate(roles) if r == WEREWOLF}
    attack: int | None = None
    protected: set[int] = set()
    poisoned: int | None = None
    deaths_pending = False
    ended = False
    round_ = 0

    def fail(rule: str, event: Any) -> None:
        raise InvariantError(f"{rule} (event {event!r})")

    def winner() -> str | None:
        w = sum(alive[p] for p in wolves)
        if w == 0:
            return "village"
        return "werewolves" if w >= sum(alive) - w else None

    for ev in game.events[1:]:
        kind = ev[0]
        if ended:
            fail("something happened after the end", ev)
        if deaths_pending and kind != "death":
            deaths_pending = False
            if winner() is not None and kind != "end":
                fail(f"{winner()} had won but the game went on", ev)
            if winner() is None and kind == "end" and round_ < rules.max_rounds:
                fail("the game ended before a side won", ev)
        if kind == "night":
            round_ = ev[1]
            attack, protected, poisoned = None, set(), None
            if round_ > rules.max_rounds:
                fail("a night after max_rounds", ev)
        elif kind == "act":
            _, p, act, was_alive = ev
            if not was_alive or not alive[p]:
                fail("a dead player acted", ev)
            if act in ACTOR_ROLE and roles[p] != ACTOR_ROLE[act]:
                fail(f"a {roles[p]} took a {act} turn", ev)
        elif kind == "attack":
            attack = ev[1]
            if attack is not None and (not alive[attack] or attack in wolves):
                fail("the wolves attacked a dead player or a wolf", ev)
        elif kind == "protect":
            protected.add(ev[2])
        elif kind == "poison":
            poisoned = ev[2]
        elif kind == "seen":
            _, seer, target, wolf = ev
            if wolf != (target in wolves) or not alive[target] or target == seer:
                fail("the Seer's result is false or its target illegal", ev)
        elif kind == "dawn":
            expected = set()
            if rules.kill_needs_doctor_or_seer and not any(
                    alive[p] and roles[p] in (DOCTOR, SEER) for p in range(rules.players)):
                attack = None
            if attack is not None and attack not in protected:
                expected.add(attack)
            if poisoned is not None:
                expected.add(poisoned)
            if set(ev[2]) != expected:
                fail(f"the night's deaths should be {sorted(expected)}", ev)
            deaths_pending = True
        elif kind == "exile":
            _check_exile(ev, rules, sum(alive), fail)
            deaths_pending = ev[1] is not None
            if ev[1] is None and winner() is None and round_ >= rules.max_rounds:
                deaths_pending = True  # the draw must follow
        elif kind == "death":
            if not alive[ev[1]]:
                fail("a dead player died again", ev)
            alive[ev[1]] = False
            deaths_pending = True
        elif kind == "end":
            if ev[1] != winner():
                fail(f"the winner should be {winner()}", ev)
            if ev[1] is None and round_ < rules.max_rounds:
                fail("a draw before max_rounds", ev)
            ended = True
    if not game.over or not ended:
        raise InvariantError("the game did not end")
    _check_tally_lines(game)
    _check_seer_lines(game)


_SEEN = re.compile(r"^• night \d+: you chose to see player_(\d+): player_(\d+) is (not )?a "
                   r"Werewolf\.$")


def _check_seer_lines(game: Game) -> None:
    """What each Seer reads in its own log is the target's true side."""
    for p, role in enumerate(game.roles):
        if role != SEER:
            continue
        for line in (ln for rnd in game.logs.lines[p] for ln in rnd):
            m = _SEEN.match(line)
            if m and (m.group(1) != m.group(2)
                      or (m.group(3) is None) != (game.roles[int(m.group(1))] == WEREWOLF)):
                raise InvariantError(f"the Seer's log says {line!r}")


def _check_exile(ev: Any, rules: Rules, living: int, fail: Any) -> None:
    _, exiled, votes = ev
    tally = Counter(t for t in votes.values() if t is not None)
    if len(votes) != living:
        fail("not every living player voted", ev)
    top = max(tally.values(), default=0)
    tied = [t for t, c in tally.items() if c == top]
    if exiled is None:
        allowed = (not tally or (len(tied) > 1 and rules.tie_break == "none")
                   or (rules.exile == "majority" and top * 2 <= living))
        if not allowed:
            fail("nobody was exiled though the tally named someone", ev)
    else:
        if exiled not in tied:
            fail("the exiled player did not have the most votes", ev)
        if len(tied) > 1 and rules.tie_break == "none":
            fail("a tie exiled someone under tie_break=none", ev)
        if rules.exile == "majority" and tally[exiled] * 2 <= living:
            fail("exiled without a strict majority", ev)


_RESULT = re.compile(r"^• day (\d+) voting result: .*$", re.MULTILINE)
_VOTED = re.compile(r"^  – voted for player_(\d+): (.*)\.$")


def _check_tally_lines(game: Game) -> None:
    """The public tally lines (in any seat's log) list exactly the votes cast."""
    exiles = [ev for ev in game.events if ev[0] == "exile"]
    lines = [ln for rnd in game.logs.lines[0] for ln in rnd]
    blocks: list[dict[int, set[int]]] = []
    for ln in lines:
        if _RESULT.match(ln):
            blocks.append({})
        elif (m := _VOTED.match(ln)) and blocks:
            blocks[-1][int(m.group(1))] = {int(x) for x in re.findall(r"player_(\d+)",
                                                                      m.group(2))}
    if len(blocks) != len(exiles):
        raise InvariantError(f"{len(exiles)} votes held, {len(blocks)} tallies published")
    for block, (_, _, votes) in zip(blocks, exiles, strict=True):
        cast: dict[int, set[int]] = {}
        for voter, target in votes.items():
            if target is not None:
                cast.setdefault(target, set()).add(voter)
        if block != cast:
            raise InvariantError(f"published tally {block} != votes cast {cast}")


def check_random_games(games: int = 300, **_: Any) -> str:
    """``turnrl check werewolf``: random games under every variant keep the rules, and a
    replay with the same seed and replies is identical."""
    per = max(1, games // len(VARIANTS))
    lengths = []
    for name, opts in VARIANTS.items():
        rules = make_rules(opts.get("preset", "lspo"),
                           **{k: v for k, v in opts.items() if k != "preset"})
        for i in range(per):
            game, replies = play_random_game(rules, seed=i, reply_seed=10_000 + i)
            try:
                check_game(game)
            except InvariantError as exc:
                raise InvariantError(f"{name}, seed {i}: {exc}") from None
            lengths.append(len(replies))
            if i < 5:
                again = Game(rules, i)
                for reply in replies:
                    again.act(reply)
                if again.events != game.events or again.logs.lines != game.logs.lines:
                    raise InvariantError(f"{name}, seed {i}: a replay differs")
    return (f"{len(lengths)} random games under {len(VARIANTS)} rule sets keep the rules "
            f"(<= {max(lengths)} turns; replays identical)")


check_random_games.check_name = "werewolf rules"  # type: ignore[attr-defined]
