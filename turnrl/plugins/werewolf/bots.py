"""Rule-based players, registered as scripted policies (``scripted:basic`` and friends).

A bot reads only its own observation (through a ``Dialect``, so the same bots play this
plugin's game and TextArena's SecretMafia) and decides by role:

* **Seer**: investigates living players it has not seen (suspects first); ``claim`` styles
  come out in the discussion with a found wolf ("I am the Seer and player_3 is a Werewolf.")
  or, from day 2, with a cleared player; ``quiet`` never claims. Votes for a found wolf.
* **Villagers** (and Doctor, Guard, Witch in the day) trust the first Seer claim not caught
  lying, repeat its accusation, and vote for the accused; without one, for the most suspected
  player; without that, for a random player not cleared. They never abstain: a day without an
  exile hands the wolves a free kill (against ``basic`` wolves an abstaining village won 0.33
  of 600 games, this one 0.64).
  The Doctor / Guard protect the trusted Seer, else themselves (else anyone legal); the Witch
  saves the trusted Seer or the first night's victim and poisons a found wolf.
* **Werewolves** attack the claimed Seer, else a role claimer, else anyone. Accused, they
  *defend*: one counter-claims the Seer ("I am the Seer and <real Seer> is a Werewolf.") and
  they vote out the accuser. ``bus`` wolves instead sacrifice an accused teammate (accuse it,
  vote for it) to look innocent, defending only themselves.
* ``random``: a uniformly random legal action (a random canned statement in the discussion);
  as a policy this is the built-in ``scripted:random`` (seeded by the sampling seed), so only
  the other styles are registered.

Styles: ``basic`` (claiming Seer, defending wolves), ``bus`` (claiming Seer, bussing wolves),
``quiet`` (silent Seer, defending wolves), ``random``. Every draw comes from a
``random.Random`` seeded by the task seed, the seat and the bot's move count, so a game with the
same seed and the same moves is replayed exactly.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from turnrl.core.types import Observation, Task
from turnrl.plugins.werewolf.view import Claim, Decision, Dialect, LSPODialect, View

STYLES: tuple[str, ...] = ("basic", "bus", "quiet", "random")
WOLF = "Werewolf"


class WerewolfBot:
    """One bot per episode (or one for every seat: state is kept per seat)."""

    def __init__(self, task: Task | None = None, *, style: str = "basic",
                 dialect: Dialect | None = None) -> None:
        if style not in STYLES:
            raise ValueError(f"unknown werewolf bot style {style!r}; known: {', '.join(STYLES)}")
        self.style = style
        self.seed = task.seed if task is not None else 0
        self.dialect = dialect or LSPODialect()
        self.moves: Counter[str] = Counter()

    def act(self, observation: Observation) -> str:
        who = observation.agent or "?"
        self.moves[who] += 1
        rng = random.Random(f"werewolf-bot/{self.style}/{self.seed}/{who}/{self.moves[who]}")
        view = self.dialect.view(observation)
        if self.style == "random" or (not view.legal and view.kind != "speak"):
            return rng.choice(view.legal) if view.legal else "do nothing"
        return self.dialect.render(view, decide(view, rng, self.style))


def decide(view: View, rng: random.Random, style: str) -> Decision:
    if view.role == WOLF:
        return _wolf(view, rng, style)
    if view.role == "Seer" and view.kind == "see":
        unseen = [t for t in view.targets() if t not in view.seen]
        suspects = [t for t in _suspicion(view, set()) if t in unseen]
        return Decision("target", _pick(suspects or unseen or view.targets(), rng))
    return _village(view, rng, style)


# ---------------------------------------------------------------------------- beliefs
def seer_claims(view: View) -> list[Claim]:
    return [c for c in view.claims if c.kind == "seer"]


def liars(view: View) -> set[int]:
    """Seer claimers caught lying: one who called a night victim a wolf (wolves never attack
    wolves); for the Seer, anyone else claiming the Seer or contradicting its own checks."""
    out = set()
    for c in seer_claims(view):
        if c.speaker == view.me:
            continue
        if c.wolf and c.target in view.night_dead:
            out.add(c.speaker)
        if view.role == "Seer":
            out.add(c.speaker)
    return out


def trusted_seer(view: View) -> int | None:
    """The first Seer claimer not caught lying (the Seer itself trusts only itself)."""
    if view.role == "Seer":
        return view.me
    caught = liars(view)
    claims = [c for c in seer_claims(view) if c.speaker != view.me and c.speaker not in caught]
    return claims[0].speaker if claims else None


def _known(view: View) -> tuple[set[int], set[int]]:
    """(wolves, innocents) as the trusted Seer (or this Seer's own checks) says."""
    if view.role == "Seer":
        return ({t for t, w in view.seen.items() if w},
                {t for t, w in view.seen.items() if not w} | {view.me})
    seer = trusted_seer(view)
    if seer is None:
        return set(), set()
    said = [c for c in seer_claims(view) if c.speaker == seer]
    return {c.target for c in said if c.wolf}, {c.target for c in said if not c.wolf} | {seer}


def _suspicion(view: View, exclude: set[int]) -> Counter[int]:
    alive = set(view.alive)
    return Counter(c.target for c in view.claims if c.wolf and c.target in alive
                   and c.target not in exclude and c.target != view.me)


def _pick(options: list[int], rng: random.Random) -> int | None:
    return rng.choice(sorted(options)) if options else None


def _most(counts: Counter[int], rng: random.Random) -> int | None:
    if not counts:
        return None
    top = max(counts.values())
    return _pick([t for t, c in counts.items() if c == top], rng)


# ---------------------------------------------------------------------------- village
def _village(view: View, rng: random.Random, style: str) -> Decision:
    wolves, innocents = _known(view)
    living_wolves = sorted(w for w in wolves if w in view.alive and w != view.me)
    seer = trusted_seer(view)
    legal = view.targets()
    if view.role == "Seer":  # a rival Seer claimer is lying, so a wolf
        living_wolves += sorted(t for t in liars(view) if t in view.alive
                                and t not in living_wolves)
    if view.kind == "speak":
        if view.role == "Seer" and style != "quiet":
            if living_wolves:
                return Decision("say", living_wolves[0], say="seer_wolf")
            cleared = [t for t in view.seen if not view.seen[t] and t in view.alive]
            if cleared:
                return Decision("say", cleared[-1], say="seer_good")
        if living_wolves and view.role != "Seer":
            return Decision("say", living_wolves[0], say="suspect")
        return Decision("say", say="nothing")
    if view.kind == "vote":  # never abstain: a day without an exile is a free kill
        target = living_wolves[0] if living_wolves else \
            _most(_suspicion(view, innocents), rng)
        if target is not None and target in legal:
            return Decision("target", target)
        return Decision("target", _pick([t for t in legal if t != view.me and
                                         t not in innocents] or legal, rng))
    if view.kind in ("save", "protect"):
        for choice in (seer, view.me):
            if choice is not None and choice in legal and choice in view.alive:
                return Decision("target", choice)
        return Decision("target", _pick(legal, rng))
    if view.kind == "witch":
        if view.attacked is not None and any(a.startswith("save") for a in view.legal) \
                and (view.attacked == seer or view.round == 1):
            return Decision("target", view.attacked, verb="save")
        poison = [w for w in living_wolves if f"poison player_{w}" in view.legal]
        if poison:
            return Decision("target", poison[0], verb="poison")
        return Decision("pass")
    return Decision("target", _pick(legal, rng))


# ---------------------------------------------------------------------------- wolves
def _wolf(view: View, rng: random.Random, style: str) -> Decision:
    pack = set(view.teammates) | {view.me}
    legal = view.targets()
    accusers = [c for c in seer_claims(view) if c.wolf and c.target in pack
                and c.speaker not in pack and c.speaker in view.alive]
    countered = any(c.speaker in pack for c in seer_claims(view))
    if view.kind in ("propose", "kill", "wolfvote"):
        if view.kind != "propose" and view.proposals and view.proposals[-1] in legal:
            return Decision("target", view.proposals[-1])  # follow the teammate
        claimers = [c.speaker for c in view.claims if c.kind in ("seer", "role")
                    and c.speaker in legal]
        seers = [c.speaker for c in seer_claims(view) if c.speaker in legal]
        return Decision("target", (seers or claimers or [_pick(legal, rng)])[0])
    accused_mates = sorted({c.target for c in accusers if c.target != view.me
                            and c.target in view.alive})
    self_accused = any(c.target == view.me for c in accusers)
    bussing = style == "bus" and accused_mates and not self_accused
    if view.kind == "speak":
        if bussing:
            return Decision("say", accused_mates[0], say="suspect")
        if accusers and not countered:
            return Decision("say", accusers[0].speaker, say="seer_wolf")
        villager = _most(_suspicion(view, pack), rng)
        if villager is not None:
            return Decision("say", villager, say="suspect")
        return Decision("say", say="nothing")
    if view.kind == "vote":
        if bussing and accused_mates[0] in legal:
            return Decision("target", accused_mates[0])
        if accusers and accusers[0].speaker in legal:
            return Decision("target", accusers[0].speaker)
        target = _most(_suspicion(view, pack), rng)
        options = [t for t in legal if t not in pack]
        return Decision("target", target if target in options else _pick(options or legal, rng))
    return Decision("target", _pick([t for t in legal if t not in pack] or legal, rng))


# ---------------------------------------------------------------------------- registry
def bot_factory(style: str, dialect: Callable[[], Dialect] = LSPODialect
                ) -> Callable[[Task], WerewolfBot]:
    """``factory(task) -> bot``: what an environment registers under ``bots={name: ...}``."""
    def make(task: Task, **_: Any) -> WerewolfBot:
        return WerewolfBot(task, style=style, dialect=dialect())

    make.__name__ = f"werewolf_{style}_bot"
    return make


basic, bus, quiet = (bot_factory(s) for s in ("basic", "bus", "quiet"))
