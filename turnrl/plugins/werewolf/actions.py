"""Action text: the legal actions of a turn, the canned statements, and strict parsing.

Night and vote actions are a closed grammar (LSPO, App. C): ``kill|see|save player_i``,
``protect player_i`` (guard), ``poison player_i`` / ``do nothing`` (witch), ``vote for
player_i`` and ``do not vote``. A reply matches after case folding, whitespace collapsing and
one trailing period; nothing else is read into it (``kill player_3 now`` is malformed, not a
kill). Statements are free text, capped at ``Rules.statement_max_chars``.

The discussion's ``Observation.actions`` lists *canned* statements (LSPO's "Cicero-like"
atomic actions as sentences: say nothing, suspect a player, claim a role, claim the Seer's
result on a player) so that small models and bots have a closed set to pick from; any other
non-empty statement is legal too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from turnrl.plugins.werewolf.rules import DOCTOR, GUARD, SEER, VILLAGER, WITCH

NOTHING_TO_SAY = "I have nothing to say."
DO_NOT_VOTE = "do not vote"
DO_NOTHING = "do nothing"
VERB = {"propose": "kill", "kill": "kill", "see": "see", "save": "save", "protect": "protect"}
"""Turn kind -> the verb of its ``VERB player_i`` actions (the witch and votes are special)."""

_TARGETED = re.compile(r"(kill|see|save|protect|poison|vote for) player_(\d+)")


def seat(i: int) -> str:
    return f"player_{i}"


def normalise(text: str) -> str:
    """Case folded, whitespace collapsed, one trailing period dropped."""
    out = " ".join(text.split()).lower()
    return out[:-1].rstrip() if out.endswith(".") else out


def targeted(verb: str, targets: Iterable[int]) -> list[str]:
    return [f"{verb} {seat(t)}" for t in targets]


def vote_actions(targets: Iterable[int], abstain: bool) -> list[str]:
    return [f"vote for {seat(t)}" for t in targets] + ([DO_NOT_VOTE] if abstain else [])


def witch_actions(victim: int | None, poison_targets: Sequence[int], *, antidote: bool,
                  poison: bool) -> list[str]:
    out = [f"save {seat(victim)}"] if antidote and victim is not None else []
    if poison:
        out += targeted("poison", poison_targets)
    return [*out, DO_NOTHING]


def canned_statements(others: Iterable[int], roles_in_game: Iterable[str]) -> list[str]:
    """The discussion's listed statements (the same for every role: the list leaks nothing)."""
    others = list(others)
    claims = [f"I am {'a' if r == VILLAGER else 'the'} {r}." for r in
              (VILLAGER, DOCTOR, WITCH, GUARD) if r in set(roles_in_game)]
    out = [NOTHING_TO_SAY]
    out += [f"I suspect {seat(t)} is a Werewolf." for t in others]
    out += [f"I am the {SEER} and {seat(t)} is a Werewolf." for t in others]
    out += [f"I am the {SEER} and {seat(t)} is not a Werewolf." for t in others]
    return out + claims


@dataclass(slots=True, frozen=True)
class Parsed:
    """A turn's reading of a reply: the canonical action, or why it was refused."""

    action: str | None
    """The legal action (its listed spelling), the statement text, or None when refused."""
    error: str = ""
    cut: bool = False
    """A statement cut to the length cap."""


def parse_choice(text: str, legal: Sequence[str]) -> Parsed:
    """Match a night or vote reply against this turn's legal actions (strictly)."""
    norm = normalise(text)
    for action in legal:
        if normalise(action) == norm:
            return Parsed(action)
    shown = text.strip()[:60]
    if _TARGETED.fullmatch(norm) or norm in (DO_NOT_VOTE, DO_NOTHING):
        return Parsed(None, f'"{shown}" is not a legal action now')
    return Parsed(None, f'"{shown}" is not an action (expected one of the listed actions)')


def parse_statement(text: str, max_chars: int) -> Parsed:
    """A statement: one line of stripped, whitespace-collapsed text, at most ``max_chars``."""
    said = " ".join(text.split())
    if not said:
        return Parsed(None, "an empty statement")
    if len(said) > max_chars:
        return Parsed(said[:max_chars].rstrip(), f"a statement longer than {max_chars} "
                      f"characters (cut)", cut=True)
    return Parsed(said)
