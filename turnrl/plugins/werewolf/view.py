"""What a bot knows, read from the observation text alone (no hidden state), per dialect.

Bots decide on a ``View``; a ``Dialect`` reads a ``View`` out of an environment's observation
and writes a bot's ``Decision`` back as that environment's action text. ``LSPO`` reads this
plugin's logs; the TextArena adapter has its own dialect (``textarena_dialect.py``), so the same
bots play both games.

Statements are read by loose patterns (``I am the Seer and player_3 is a Werewolf``,
``I suspect player_3``, ``I am the Doctor``) anywhere in a statement, so free text that uses
the same phrases is understood too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Protocol

from turnrl.core.types import Observation
from turnrl.plugins.werewolf import actions as A
from turnrl.plugins.werewolf.rules import ROLES


@dataclass(slots=True)
class Claim:
    """One reading of a statement: ``kind`` is ``seer`` (a Seer's result), ``suspect`` or
    ``role`` (a role claim; ``role`` holds it)."""

    round: int
    speaker: int
    kind: str
    target: int | None = None
    wolf: bool = False
    role: str = ""


@dataclass(slots=True)
class View:
    me: int
    role: str
    kind: str
    """The turn: propose | kill | wolfvote | see | save | protect | witch | speak | vote."""
    legal: tuple[str, ...]
    round: int = 1
    teammates: list[int] = field(default_factory=list)
    alive: list[int] = field(default_factory=list)
    seen: dict[int, bool] = field(default_factory=dict)
    proposals: list[int] = field(default_factory=list)
    """Tonight's kill proposals or votes by teammates, in order."""
    attacked: int | None = None
    """The Witch's view of tonight's victim."""
    night_dead: set[int] = field(default_factory=set)
    """Players killed at night (public, and never wolves: wolves do not attack wolves)."""
    claims: list[Claim] = field(default_factory=list)

    def targets(self) -> list[int]:
        """Players named by this turn's legal actions."""
        return sorted({t for a in self.legal if (t := target_of(a)) is not None})


@dataclass(slots=True, frozen=True)
class Decision:
    """``target`` (act on / vote for a player), ``pass`` (abstain, do nothing) or ``say``."""

    what: str
    target: int | None = None
    say: str = "nothing"
    """For ``say``: nothing | suspect | seer_wolf | seer_good | claim (role in ``role``)."""
    role: str = ""
    verb: str = ""
    """For the Witch: ``save`` or ``poison``."""


class Dialect(Protocol):
    def view(self, observation: Observation) -> View: ...

    def render(self, view: View, decision: Decision) -> str: ...


_PLAYER = re.compile(r"player_(\d+)")
_ANY_TARGET = re.compile(r"player_(\d+)|^\[(\d+)\]$")


def target_of(action: str) -> int | None:
    """The player an action names (``kill player_3``, or TextArena's ``[3]``)."""
    m = _ANY_TARGET.search(action)
    return int(m.group(1) or m.group(2)) if m else None


def read_claims(text: str, speaker: int, round_: int, player: str = r"player_(\d+)",
                seer: str = "Seer", wolf: str = "a Werewolf") -> list[Claim]:
    """The claims in one statement (see the module docstring). Statements are read again on
    every later turn of the game, so readings are cached."""
    return [Claim(round_, speaker, kind, target, wolf_, role)
            for kind, target, wolf_, role in _claims(text, player, seer, wolf)]


@functools.lru_cache(maxsize=8)
def _patterns(player: str, seer: str, wolf: str) -> tuple[re.Pattern[str], ...]:
    flags = re.IGNORECASE
    return (re.compile(rf"I am the {seer}\b.*?{player} is (not )?{wolf}", flags),
            re.compile(rf"I suspect {player}", flags),
            re.compile(r"I am (?:a|an|the) (\w+)", flags))


@functools.lru_cache(maxsize=4096)
def _claims(text: str, player: str, seer: str, wolf: str
            ) -> tuple[tuple[str, int | None, bool, str], ...]:
    results_re, suspect_re, role_re = _patterns(player, seer, wolf)
    out: list[tuple[str, int | None, bool, str]] = []
    results = set()
    for m in results_re.finditer(text):
        out.append(("seer", int(m.group(1)), m.group(2) is None, ""))
        results.add(m.start())
    for m in suspect_re.finditer(text):
        out.append(("suspect", int(m.group(1)), True, ""))
    for m in role_re.finditer(text):
        if m.start() in results:  # "I am the Seer and ..." is read as the result above
            continue
        role = m.group(1).capitalize()
        if role in ROLES or role == seer:
            out.append(("role", None, False, role))
    return tuple(out)


_KINDS = (("propose one player to kill", "propose"), ("choose one player to kill", "kill"),
          ("vote for one player to kill", "wolfvote"), ("choose one player to see", "see"),
          ("choose one player to save", "save"), ("choose one player to protect", "protect"),
          ("may use a potion", "witch"), ("make a statement", "speak"),
          ("voting and you should vote", "vote"))
_ME = re.compile(r"• you are player_(\d+), your role is (\w+)\.")
_ROUND = re.compile(r"• current round and phase: (?:night|day) (\d+)")
_SAID = re.compile(r"^  – (player_\d+|you) said: (.*)$", re.MULTILINE)
_HEADER = re.compile(r"^Round (\d+):$", re.MULTILINE)
_SEEN = re.compile(r"^• night \d+: you chose to see player_(\d+): player_\d+ is (not )?a",
                   re.MULTILINE)
_PROPOSED = re.compile(r"^• night (\d+): player_\d+ (?:proposed|voted) to kill player_(\d+)",
                       re.MULTILINE)
_ATTACKED = re.compile(r"night \d+ round, player_(\d+) was attacked")
_KILLED = re.compile(r"^• day \d+ announcement: (.*) (?:was|were) killed", re.MULTILINE)


class LSPODialect:
    """Reads this plugin's LSPO-format logs; writes its action grammar."""

    def view(self, observation: Observation) -> View:
        text = observation.text
        me_m = _ME.search(text)
        if me_m is None:
            raise ValueError("not a werewolf observation")
        me, role = int(me_m.group(1)), me_m.group(2)
        last = text.rsplit("\n", 1)[-1]
        kind = next((k for phrase, k in _KINDS if phrase in last), "other")
        view = View(me, role, kind, tuple(observation.actions or ()))
        rm = _ROUND.search(text)
        view.round = int(rm.group(1)) if rm else 1
        for line in text.split("\n", 6)[1:6]:
            if line.startswith("• your teammate"):
                view.teammates = [int(x) for x in _PLAYER.findall(line)]
            elif line.startswith("• remaining players:"):
                view.alive = [int(x) for x in _PLAYER.findall(line)]
        if role == "Seer":
            for m in _SEEN.finditer(text):
                view.seen[int(m.group(1))] = m.group(2) is None
        tonight = str(view.round)
        view.proposals = [int(m.group(2)) for m in _PROPOSED.finditer(text)
                          if m.group(1) == tonight]
        if kind == "witch":
            am = _ATTACKED.search(last)
            view.attacked = int(am.group(1)) if am else None
        for m in _KILLED.finditer(text):
            view.night_dead.update(int(x) for x in _PLAYER.findall(m.group(1)))
        self._read_statements(text, view)
        return view

    @staticmethod
    def _read_statements(text: str, view: View) -> None:
        headers = [(m.start(), int(m.group(1))) for m in _HEADER.finditer(text)]
        for m in _SAID.finditer(text):
            speaker = view.me if m.group(1) == "you" else int(m.group(1)[7:])
            round_ = max((r for pos, r in headers if pos < m.start()), default=1)
            view.claims += read_claims(m.group(2), speaker, round_)

    def render(self, view: View, decision: Decision) -> str:
        if decision.what == "say":
            return lspo_statement(decision)
        if decision.what == "pass":
            for a in (A.DO_NOT_VOTE, A.DO_NOTHING):
                if a in view.legal:
                    return a
            return view.legal[0] if view.legal else A.DO_NOTHING
        for action in view.legal:
            if target_of(action) == decision.target and \
                    (not decision.verb or action.startswith(decision.verb)):
                return action
        return view.legal[0] if view.legal else A.DO_NOTHING


def lspo_statement(d: Decision) -> str:
    t = A.seat(d.target) if d.target is not None else ""
    return {"nothing": A.NOTHING_TO_SAY, "suspect": f"I suspect {t} is a Werewolf.",
            "seer_wolf": f"I am the Seer and {t} is a Werewolf.",
            "seer_good": f"I am the Seer and {t} is not a Werewolf.",
            "claim": f"I am {'a' if d.role == 'Villager' else 'the'} {d.role}."}[d.say]
