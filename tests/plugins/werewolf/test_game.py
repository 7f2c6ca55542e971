"""The game's rules on hand-built deals: every expected value below is worked out by hand."""

from __future__ import annotations

import pytest

from tests.plugins.werewolf.helpers import D, S, V, W, all_speak, game, play
from turnrl.plugins.werewolf.actions import NOTHING_TO_SAY
from turnrl.plugins.werewolf.rules import make_rules


def night(g, kill=4, see=3, save=None, propose=None):
    """Night 1 of ``DEAL``; by default the Doctor saves the victim (nobody dies)."""
    return play(g, (0, f"kill player_{propose if propose is not None else kill}"),
                (3, f"kill player_{kill}"), (1, f"see player_{see}"),
                (2, f"save player_{save if save is not None else kill}"))


def test_night_one_proposal_decision_see_and_save_in_lspo_format() -> None:
    g = game()
    assert (g.turn.player, g.turn.kind) == (0, "propose")  # the lower-id wolf proposes
    assert g.legal(g.turn) == ["kill player_1", "kill player_2", "kill player_4",
                               "kill player_5", "kill player_6"]  # not itself nor teammate
    play(g, (0, "kill player_4"))
    text = g.observe(3)
    assert "• night 1: player_0 proposed to kill player_4." in text
    assert text.endswith("Now it is night 1 round and you should choose one player to kill. "
                         "As player_3 and a Werewolf, you should choose from the following "
                         "actions: kill player_1, kill player_2, kill player_4, kill player_5, "
                         "kill player_6.")
    play(g, (3, "kill player_4"), (1, "see player_3"))
    assert g.legal(g.turn) == [f"save player_{i}" for i in range(7)]  # self-save allowed
    play(g, (2, "save player_4"))
    assert g.alive == [True] * 7  # the Doctor's save stopped the kill
    assert g.observe(1) == "\n".join([
        "Basic Information:",
        "• you are player_1, your role is Seer.",
        "• current round and phase: day 1 discussion.",
        "• remaining players: player_0, player_1, player_2, player_3, player_4, player_5, "
        "player_6.",
        "Round 1:",
        "• night 1: you chose to see player_3: player_3 is a Werewolf.",
        "• day 1 announcement: no player was killed last night.",
        "• day 1 discussion:",
    ])  # player_0 speaks first: player_1 is not asked yet, so no prompt line
    assert "teammate is player_3" in g.observe(0)
    assert "player_4" not in g.observe(5).split("Round 1:")[1]  # the kill is secret


def test_day_round_robin_votes_tally_and_shaped_rewards() -> None:
    g = game()
    night(g)
    assert [t.player for t in g.queue] == list(range(7))  # one pass in id order
    play(g, *((p, f"statement {p}") for p in range(7)))
    assert "  – you said: statement 2" in g.observe(2)
    assert "  – player_2 said: statement 2" in g.observe(1)
    outs = play(g, (0, "vote for player_1"), (1, "Vote for player_3."), (2, "vote for player_3"),
                (3, "vote for player_1"), (4, "vote for player_3"), (5, "do not vote"),
                (6, "vote for player_9"))
    assert [o.valid for o in outs] == [True] * 6 + [False]  # player_9 does not exist
    assert g.alive == [True, True, True, False, True, True, True]
    lines = g.observe(5).split("\n")
    i = lines.index("• day 1 voting result: player_3 had the most votes and was eliminated.")
    assert lines[i + 1:i + 4] == ["  – voted for player_3: player_1, player_2, player_4.",
                                  "  – voted for player_1: player_0, player_3.",
                                  "  – choose not to vote: player_5, player_6."]
    # village voters +20 for a wolf; exiled -10; others +5 (opponent out) / -5 (teammate out);
    # +5 for surviving the round
    assert outs[-1].payoffs.shaped == {1: 30.0, 2: 30.0, 4: 30.0, 3: -10.0, 0: 0.0, 5: 10.0,
                                       6: 10.0}
    assert outs[-1].payoffs.sparse == {}
    assert not g.over
    assert (g.round, g.turn.player, g.turn.kind) == (2, 0, "kill")  # a lone wolf decides


def test_village_wins_when_the_last_wolf_is_exiled_and_everyone_is_paid() -> None:
    g = game()
    night(g)
    all_speak(g)
    play(g, *((p, "vote for player_1" if p == 3 else "vote for player_3") for p in range(7)))
    play(g, (0, "kill player_1"), (1, "see player_0"), (2, "save player_2"))
    assert "• day 2 announcement: player_1 was killed last night." in g.observe(4)
    all_speak(g)
    outs = play(g, *((p, "vote for player_0") for p in (0, 2, 4, 5, 6)))
    assert outs[0].valid is False  # voting for oneself is not allowed under LSPO rules
    assert g.over
    assert g.winner == "village"
    pay = outs[-1].payoffs
    assert pay.sparse == {0: -1.0, 1: 1.0, 2: 1.0, 3: -1.0, 4: 1.0, 5: 1.0, 6: 1.0}
    # player_2: +20 vote, +5 opponent out, +5 survived, +300 win
    assert pay.shaped[2] == 330.0
    assert pay.shaped[1] == 300.0  # dead players get the team outcome only
    assert pay.shaped[0] == -310.0  # -10 exiled, -300 lost
    assert g.turn is None


def test_wolves_win_at_parity_right_at_dawn() -> None:
    g = game()
    night(g, kill=4, save=5)
    all_speak(g)
    play(g, *((p, "vote for player_5" if p == 6 else "vote for player_6")
              for p in (0, 1, 2, 3, 5, 6)))
    assert g.alive == [True, True, True, True, False, True, False]  # 2 wolves, 3 others
    outs = play(g, (0, "kill player_5"), (3, "kill player_5"), (1, "see player_0"),
                (2, "save player_2"))
    assert g.over  # 2 wolves == 2 others: no discussion
    assert g.winner == "werewolves"
    assert outs[-1].payoffs.sparse == {0: 1.0, 1: -1.0, 2: -1.0, 3: 1.0, 4: -1.0, 5: -1.0,
                                       6: -1.0}
    assert "• game over: the werewolves win" in g.observe(4)


def test_bad_replies_take_their_documented_defaults() -> None:
    g = game()
    outs = play(g, (0, "kill player_3"), (3, "kill everyone"), (1, "see player_1"),
                (2, ""))
    assert [o.valid for o in outs] == [False] * 4
    assert "not a legal action now" in outs[0].error  # a teammate is not a target
    assert "is not an action" in outs[1].error
    assert g.alive == [True] * 7  # no proposal and no decision: nobody is attacked
    assert "you saw nobody" in g.observe(1)
    g = game()
    play(g, (0, "kill player_5"), (3, "kill player_0"), (1, "see player_0"), (2, "save player_2"))
    assert not g.alive[5]  # a bad decision keeps the teammate's proposal
    assert "the proposal to kill player_5 stands" in g.observe(3)
    out = g.act("   ")
    assert not out.valid
    assert "  – you said: (nothing)" in g.observe(0)
    out = g.act("x" * 400)
    assert not out.valid
    assert out.error.startswith("a statement longer than 300")
    assert f"  – player_1 said: {'x' * 300}" in g.observe(0)
    out = g.act("  I   suspect\nplayer_0 ")
    assert out.valid
    assert "  – player_2 said: I suspect player_0" in g.observe(0)


def test_parsing_is_strict() -> None:
    g = game()
    for reply in ("kill player_4 now", "kill player_4, player_5", "please kill player_4",
                  "kill player 4", "<action>kill player_4</action>"):
        g2 = game()
        assert not g2.act(reply).valid, reply
    assert g.act("  KILL   Player_4. ").valid  # case, spaces and one period are forgiven


def test_statement_prompt_lists_canned_statements() -> None:
    g = game()
    night(g)
    legal = g.legal(g.turn)
    assert legal[0] == NOTHING_TO_SAY
    assert "I suspect player_1 is a Werewolf." in legal
    assert "I am the Seer and player_6 is not a Werewolf." in legal
    assert "I am the Doctor." in legal
    assert "I am the Witch." not in legal
    assert g.observe(0).endswith('for example one of the following: "I have nothing to say.", '
                                 '"I suspect player_1 is a Werewolf."' + g.observe(0).split(
                                     'Werewolf."', 1)[1])
    assert g.observe(0).endswith('"I am a Villager.", "I am the Doctor."')


def test_state_key_holds_knowledge_not_chat() -> None:
    a, b = game(), game()
    for g, words in ((a, "I trust player_4"), (b, "wolves everywhere")):
        night(g)
        all_speak(g, words)
    assert a.observe(1) != b.observe(1)
    assert [a.state_key(p) for p in range(7)] == [b.state_key(p) for p in range(7)]
    assert a.state_key(1) == "player_1|Seer|wait1|1111111|seen=3W"
    assert a.state_key(0) == "player_0|Werewolf|vote1|1111111|tm=3;prop=0>4"


def test_textarena_rules_plurality_wolves_three_random_rounds_no_abstain() -> None:
    rules = make_rules("textarena")
    g = game(rules=rules, seed=5)
    assert [(t.player, t.kind) for t in g.queue] == [(0, "wolfvote"), (3, "wolfvote"),
                                                     (1, "see"), (2, "save")]
    play(g, (0, "kill player_4"), (3, "kill player_5"))
    assert g.victim in (4, 5)  # a 1-1 tie broken by the seeded draw
    assert g.legal(g.turn) == [f"see player_{i}" for i in (0, 2, 3, 4, 5, 6)]
    play(g, (1, "see player_0"))
    assert "save player_2" not in g.legal(g.turn)  # the Doctor is not offered herself
    play(g, (2, "save player_1"))
    order = [t.player for t in g.queue]
    assert len(order) == 18
    assert order[:6] * 3 == order  # one shuffle, three passes
    all_speak(g)
    assert "do not vote" not in g.legal(g.turn)
    assert f"vote for player_{g.turn.player}" in g.legal(g.turn)  # self votes allowed


@pytest.mark.parametrize(("votes_for_4", "exiled"), [(3, None), (4, 4)])
def test_majority_exile_needs_more_than_half(votes_for_4: int, exiled) -> None:
    g = game(rules=make_rules(exile="majority"))
    night(g, kill=4, save=4)
    all_speak(g)
    play(g, *((p, "vote for player_4" if p != 4 and p - (p > 4) < votes_for_4
               else "do not vote") for p in range(7)))
    assert g.events[-1 if exiled is None else -2][0] in ("exile", "death", "night")
    assert g.alive[4] is (exiled is None)
    if exiled is None:
        assert "no player was eliminated (no majority)." in g.observe(0)


def test_tie_without_tie_break_exiles_nobody() -> None:
    g = game(rules=make_rules(tie_break="none"))
    night(g, kill=4, save=4)
    all_speak(g)
    play(g, (0, "vote for player_5"), (1, "vote for player_5"), (2, "vote for player_6"),
         (3, "vote for player_6"), (4, "do not vote"), (5, "do not vote"), (6, "do not vote"))
    assert all(g.alive)
    assert "no player was eliminated (a tie)." in g.observe(0)


def test_witch_and_guard() -> None:
    rules = make_rules(witch=True, guard=True, doctor=False, players=8)
    g = game(roles=(W, S, "Witch", W, "Guard", V, V, V), rules=rules)
    assert [t.kind for t in g.queue] == ["propose", "kill", "see", "protect", "witch"]
    play(g, (0, "kill player_5"), (3, "kill player_5"), (1, "see player_0"),
         (4, "protect player_4"))
    witch_prompt = g.observe(2)
    assert "Now it is night 1 round, player_5 was attacked tonight, and you may use a potion" \
        in witch_prompt
    assert g.legal(g.turn)[0] == "save player_5"
    assert g.legal(g.turn)[-1] == "do nothing"
    play(g, (2, "save player_5"))
    assert all(g.alive)  # the antidote saved the victim
    all_speak(g)
    play(g, *((p, "do not vote") for p in range(8)))
    play(g, (0, "kill player_6"), (3, "kill player_6"), (1, "see player_3"))
    assert "protect player_4" not in g.legal(g.turn)  # never the same player twice running
    play(g, (4, "protect player_5"))
    assert not any(a.startswith("save") for a in g.legal(g.turn))  # the antidote is spent
    play(g, (2, "poison player_3"))
    assert "• day 2 announcement: player_3, player_6 were killed last night." in g.observe(0)
    assert not g.alive[3]
    assert not g.alive[6]


def test_max_rounds_is_a_draw() -> None:
    g = game(rules=make_rules(max_rounds=1))
    night(g, kill=4, save=4)
    all_speak(g)
    outs = play(g, *((p, "do not vote") for p in range(7)))
    assert g.over
    assert g.truncated
    assert g.winner is None
    assert outs[-1].payoffs.sparse == {}
    assert "draw" in g.observe(0)


def test_fixed_deal_must_be_the_rules_cards() -> None:
    with pytest.raises(ValueError, match="not the deal"):
        game(roles=(W, W, W, S, D, V, V))


def test_textarena_exact_loses_the_night_kill_once_doctor_and_seer_are_dead() -> None:
    g = game(rules=make_rules("textarena-exact"), seed=3)
    play(g, (0, "kill player_1"), (3, "kill player_1"), (1, "see player_0"),
         (2, "save player_5"))
    assert not g.alive[1]  # the Seer dies: the Doctor is still alive, the kill happens
    all_speak(g)
    while g.turn.kind == "vote":
        g.act("vote for player_2" if g.turn.player != 2 else "vote for player_0")
    assert not g.alive[2]  # the Doctor is exiled
    play(g, (0, "kill player_4"), (3, "kill player_4"))
    assert g.alive[4]  # no Doctor and no Seer: TextArena never resolves the kill
    assert "• day 2 announcement: no player was killed last night." in g.observe(5)
    assert make_rules("textarena").kill_needs_doctor_or_seer is False
