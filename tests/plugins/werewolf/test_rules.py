"""Rule presets and options: LSPO by default, variants by option, one-line errors."""

from __future__ import annotations

import pytest

from turnrl.plugins.werewolf.rules import RulesError, make_rules


def test_lspo_is_the_default_deal() -> None:
    rules = make_rules()
    assert sorted(rules.deck()) == sorted(["Werewolf"] * 2 + ["Seer", "Doctor"]
                                          + ["Villager"] * 3)
    assert (rules.discussion_rounds, rules.speaking_order, rules.abstain, rules.exile,
            rules.tie_break, rules.wolf_decision, rules.doctor_self_save) == (
        1, "id", True, "plurality", "random", "proposer", True)


def test_textarena_preset_matches_secret_mafia() -> None:
    rules = make_rules("textarena")
    assert (rules.discussion_rounds, rules.speaking_order, rules.abstain, rules.self_vote,
            rules.wolf_decision, rules.doctor_self_save) == (3, "random", False, True,
                                                             "plurality", False)
    # TextArena: num_mafia = max(1, round(n * 0.25))
    for n, wolves in ((6, 2), (7, 2), (8, 2), (10, 2), (12, 3), (15, 4)):
        assert make_rules("textarena", players=n).wolf_count == wolves


def test_variants_by_option() -> None:
    rules = make_rules(players=9, witch=True, guard=True, exile="majority")
    deck = rules.deck()
    assert len(deck) == 9
    assert {"Witch", "Guard", "Seer", "Doctor"} <= set(deck)
    assert deck.count("Werewolf") == 2
    assert make_rules(make_rules("textarena"), players=8).discussion_rounds == 3


@pytest.mark.parametrize(("options", "message"), [
    ({"players": 4}, "players: Input should be greater than or equal to 5"),
    ({"werewolves": 3, "players": 6}, "would win before the first night"),
    ({"players": 5, "werewolves": 2, "witch": True, "guard": True}, "do not fit"),
    ({"exile": "unanimous"}, "exile: Input should be 'plurality' or 'majority'"),
    ({"wolves": 2}, "wolves: unknown option (expected one of: players, werewolves"),
])
def test_bad_options_fail_with_one_line(options: dict, message: str) -> None:
    with pytest.raises(RulesError) as exc:
        make_rules(**options)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_unknown_preset() -> None:
    with pytest.raises(RulesError, match="unknown preset 'kaggle'"):
        make_rules("kaggle")
