"""The bots' reading of TextArena ``SecretMafia-v0`` text, and their replies in its format.

TextArena's observation is a sequence of ``[GAME] ...`` and ``[Player k] ...`` messages (a
message may run over several lines). The dialect walks them in order: the welcome gives the
seat, role and teammates; ``Night has fallen`` / ``Night phase - choose one player to
protect|investigate`` / ``Day breaks`` / ``Voting phase`` mark the phases; ``Player k was
killed during the night`` / ``was eliminated by vote`` / ``has been eliminated by making an
invalid move`` remove players; ``Player k IS (NOT) a Mafia member`` is the Detective's result;
``[Player k] ...`` is a statement in the discussion, a vote in the day vote, and a teammate's
choice at night. Roles are mapped to this plugin's names (Mafia -> Werewolf, Detective ->
Seer) so the same bot logic applies; replies are ``[k]`` and statements in TextArena's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from turnrl.core.types import Observation
from turnrl.plugins.werewolf.view import Decision, View, read_claims

ROLE_OF = {"Mafia": "Werewolf", "Detective": "Seer", "Doctor": "Doctor", "Villager": "Villager"}
NOTHING = "I have nothing to say."
_MESSAGE = re.compile(r"^\[(GAME|Player (\d+))\] ", re.MULTILINE)
_PLAYERS = re.compile(r"Player (\d+)")
_DEATH = re.compile(r"Player (\d+) (?:was killed during the night|was eliminated by vote|"
                    r"has been eliminated by making an invalid move)")
_RESULT = re.compile(r"Player (\d+) IS( NOT)? a Mafia member")
_TARGET = re.compile(r"\[(\d+)\]")
_PHASES = (("Night has fallen", "wolfvote"), ("choose one player to protect", "save"),
           ("choose one player to investigate", "see"), ("Day breaks", "speak"),
           ("Voting phase", "vote"))


def canned(others: Iterable[int]) -> list[str]:
    """The discussion's listed statements, in TextArena's words."""
    others = list(others)
    return [NOTHING, *(f"I suspect Player {t} is Mafia." for t in others),
            *(f"I am the Detective and Player {t} is Mafia." for t in others),
            *(f"I am the Detective and Player {t} is not Mafia." for t in others),
            "I am a Villager.", "I am the Doctor."]


def messages(text: str) -> list[tuple[int | None, str]]:
    """``(sender, body)`` in order; ``sender`` None for ``[GAME]``."""
    starts = list(_MESSAGE.finditer(text))
    out = []
    for m, nxt in zip(starts, [*starts[1:], None], strict=True):
        body = text[m.end():nxt.start() if nxt else len(text)].strip()
        out.append((int(m.group(2)) if m.group(2) else None, body))
    return out


class TextArenaDialect:
    def view(self, observation: Observation) -> View:
        msgs = messages(observation.text)
        if not msgs or "Welcome to Secret Mafia" not in msgs[0][1]:
            raise ValueError("not a SecretMafia observation")
        welcome = msgs[0][1]
        me = int(re.search(r"You are Player (\d+)", welcome).group(1))  # type: ignore[union-attr]
        role_m = re.search(r"Your role: (\w+)", welcome)
        view = View(me, ROLE_OF.get(role_m.group(1) if role_m else "", "Villager"), "other",
                    tuple(observation.actions or ()))
        players = re.search(r"Players: (.*)", welcome)
        alive = [int(x) for x in _PLAYERS.findall(players.group(1))] if players else []
        mates = re.search(r"Your teammates are: (.*)\.", welcome)
        if mates:
            view.teammates = [int(x) for x in _PLAYERS.findall(mates.group(1)) if int(x) != me]
        phase, days = "night", 0
        for sender, body in msgs[1:]:
            if sender is None:
                for phrase, kind in _PHASES:
                    if phrase in body:
                        view.kind, phase = kind, kind
                        if kind == "wolfvote":
                            view.proposals = []
                        if kind == "speak":
                            days += 1
                for m in _DEATH.finditer(body):
                    if "during the night" in m.group(0):
                        view.night_dead.add(int(m.group(1)))
                    if int(m.group(1)) in alive:
                        alive.remove(int(m.group(1)))
                for m in _RESULT.finditer(body):
                    view.seen[int(m.group(1))] = m.group(2) is None
            elif phase == "speak":
                view.claims += read_claims(body, sender, days, player=r"Player (\d+)",
                                           seer="Detective", wolf="Mafia")
            elif phase == "wolfvote" and sender != me and (t := _TARGET.search(body)):
                view.proposals.append(int(t.group(1)))
        view.alive = alive
        view.round = days if phase in ("speak", "vote") else days + 1
        return view

    def render(self, view: View, decision: Decision) -> str:
        if decision.what == "say":
            t = decision.target
            return {"nothing": NOTHING, "suspect": f"I suspect Player {t} is Mafia.",
                    "seer_wolf": f"I am the Detective and Player {t} is Mafia.",
                    "seer_good": f"I am the Detective and Player {t} is not Mafia.",
                    "claim": f"I am {'a' if decision.role == 'Villager' else 'the'} "
                             f"{decision.role}."}[decision.say]
        if decision.what == "target" and decision.target is not None:
            return f"[{decision.target}]"
        return view.legal[0] if view.legal else NOTHING
