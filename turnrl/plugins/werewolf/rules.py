"""The rule set of one Werewolf game: LSPO's rules by default, every variant an option.

``Rules`` is a pydantic model (unknown keys and impossible combinations are refused with one
line), so a variant is data, never a code copy. Presets name the rule sets the literature plays:

* ``lspo`` (default; Xu et al. 2025, App. A): 7 players = 2 Werewolves, Seer, Doctor,
  3 Villagers; the lower-id wolf proposes a victim and the other decides; the Doctor may save
  anyone, herself included; one discussion round in id order; simultaneous votes with
  abstention; plurality exile with a seeded random tie-break; no role reveal.
* ``textarena`` (TextArena 0.7.4 ``SecretMafia-v0``): 3 discussion rounds in a random order
  (one shuffle per day), no abstention, votes for oneself allowed, the wolves' victim by
  plurality of their votes (random tie-break), the Doctor is not offered herself.
  ``textarena-exact`` adds TextArena's quirk of losing the night kill once the Doctor and the
  Detective are both dead (``kill_needs_doctor_or_seer``).

Options that change a preset: ``players`` (5-15; wolves default to ``max(1, round(n / 4))``
like TextArena, which gives LSPO's 2 at 7), ``exile="majority"`` (Werewolf Arena: exiled only
with more than half of the living players' votes), ``witch`` and ``guard`` roles (Xu et al.
2023), ``tie_break="none"``, ``max_rounds`` (a game that has not ended by then is a draw,
reported as truncated: with a Doctor who always saves the victim and a village that always
abstains, nothing else would end it).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

WEREWOLF, SEER, DOCTOR, VILLAGER, WITCH, GUARD = (
    "Werewolf", "Seer", "Doctor", "Villager", "Witch", "Guard")
ROLES: tuple[str, ...] = (WEREWOLF, SEER, DOCTOR, WITCH, GUARD, VILLAGER)
VILLAGE, WOLVES = "village", "werewolves"
TEAM: dict[str, str] = {r: (WOLVES if r == WEREWOLF else VILLAGE) for r in ROLES}
ARTICLE: dict[str, str] = {WEREWOLF: "a", VILLAGER: "a", SEER: "the", DOCTOR: "the",
                           WITCH: "the", GUARD: "the"}


class RulesError(ValueError):
    """Bad rule options; the message is one line naming the option."""


class Rules(BaseModel):
    """One game's rules. Build with ``make_rules(preset, **options)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    players: int = Field(7, ge=5, le=15)
    """Number of seats, ``player_0`` .. ``player_{n-1}``."""
    werewolves: int | None = Field(None, ge=1)
    """Wolves; None: ``max(1, round(players / 4))`` (2 at 7 players)."""
    seer: bool = True
    doctor: bool = True
    witch: bool = False
    """One antidote (save tonight's victim, whom she is told) and one poison, one per night."""
    guard: bool = False
    """Protects one living player a night, never the same player two nights running."""
    discussion_rounds: int = Field(1, ge=1, le=5)
    speaking_order: Literal["id", "random"] = "id"
    """``random``: one seeded shuffle of the living players per day, repeated every round."""
    abstain: bool = True
    """``do not vote`` is a legal vote."""
    self_vote: bool = False
    exile: Literal["plurality", "majority"] = "plurality"
    """``majority``: exiled only with more than half of the living players' votes."""
    tie_break: Literal["random", "none"] = "random"
    """A plurality tie: a seeded random pick among the tied, or nobody is exiled."""
    wolf_decision: Literal["proposer", "plurality"] = "proposer"
    """``proposer``: lower-id wolves propose, the highest-id living wolf decides (a lone wolf
    decides alone); ``plurality``: every wolf votes, seeded random tie-break."""
    doctor_self_save: bool = True
    kill_needs_doctor_or_seer: bool = False
    """TextArena 0.7.4's quirk, for exact parity only: its night ends through the Doctor's or
    the Detective's turn, and the wolves' kill is applied only there, so once both are dead
    nobody dies at night any more."""
    max_rounds: int = Field(10, ge=1, le=100)
    statement_max_chars: int = Field(300, ge=20, le=4000)
    """Longer statements are cut to this length and flagged ``valid_action=False``."""

    @model_validator(mode="after")
    def _composition(self) -> Rules:
        wolves = self.wolf_count
        village = self.players - wolves
        specials = self.seer + self.doctor + self.witch + self.guard
        if wolves >= village:
            raise ValueError(f"{wolves} werewolves among {self.players} players: the wolves "
                             f"would win before the first night")
        if specials > village:
            raise ValueError(f"{specials} special roles do not fit {village} village seats")
        return self

    @property
    def wolf_count(self) -> int:
        return self.werewolves if self.werewolves is not None else max(1, round(self.players / 4))

    def deck(self) -> list[str]:
        """The roles dealt (before the seeded shuffle): wolves, specials, villagers."""
        specials = [r for r, on in ((SEER, self.seer), (DOCTOR, self.doctor),
                                    (WITCH, self.witch), (GUARD, self.guard)) if on]
        wolves = [WEREWOLF] * self.wolf_count
        return wolves + specials + [VILLAGER] * (self.players - len(wolves) - len(specials))


PRESETS: dict[str, dict[str, Any]] = {
    "lspo": {},
    "textarena": {"discussion_rounds": 3, "speaking_order": "random", "abstain": False,
                  "self_vote": True, "wolf_decision": "plurality", "doctor_self_save": False},
}
PRESETS["textarena-exact"] = {**PRESETS["textarena"], "kill_needs_doctor_or_seer": True}


def make_rules(preset: str = "lspo", **options: Any) -> Rules:
    """The preset's rules with ``options`` on top; ``RulesError`` (one line) on bad input."""
    if isinstance(preset, Rules):
        base = preset.model_dump()
    elif preset in PRESETS:
        base = PRESETS[preset]
    else:
        raise RulesError(f"werewolf rules: unknown preset {preset!r} "
                         f"(expected one of: {', '.join(PRESETS)})")
    try:
        return Rules(**{**base, **options})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"]) or "rules"
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = f"unknown option (expected one of: {', '.join(Rules.model_fields)})"
        raise RulesError(f"werewolf rules: {where}: {msg}") from None
