"""Rule-based bots: legal moves only, the behaviours their docstrings promise, the registry."""

from __future__ import annotations

import asyncio
import random

import pytest

from tests.plugins.werewolf.helpers import DEAL, all_speak, game, play
from turnrl.core.host import get_host
from turnrl.core.policy import GenerationRequest, SamplingParams
from turnrl.core.types import Observation, Task
from turnrl.inference.scripted import make_scripted_policy
from turnrl.plugins.werewolf.bots import STYLES, WerewolfBot, decide
from turnrl.plugins.werewolf.env import WerewolfEnv
from turnrl.plugins.werewolf.game import Game
from turnrl.plugins.werewolf.rules import make_rules
from turnrl.plugins.werewolf.tasks import make_tasks
from turnrl.plugins.werewolf.view import LSPODialect


def obs_of(g: Game) -> Observation:
    p = g.turn.player
    return Observation(g.observe(p), actions=tuple(g.legal(g.turn)), agent=f"player_{p}")


def view_of(g: Game):
    return LSPODialect().view(obs_of(g))


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("preset", ["lspo", "textarena"])
def test_bots_only_make_legal_moves(style: str, preset: str) -> None:
    rules = make_rules(preset, witch=True, guard=True, players=9)
    for seed in range(15):
        g = Game(rules, seed)
        bot = WerewolfBot(Task(env="werewolf", id="t", seed=seed), style=style)
        while not g.over:
            out = g.act(bot.act(obs_of(g)))
            assert out.valid, out.error


def test_the_view_reads_the_log() -> None:
    g = game()
    play(g, (0, "kill player_4"), (3, "kill player_4"), (1, "see player_3"),
         (2, "save player_5"))
    play(g, (0, "I suspect player_2 is a Werewolf."),
         (1, "I am the Seer and player_3 is a Werewolf. Trust me."))
    v = view_of(g)
    assert (v.me, v.role, v.kind, v.round) == (2, "Doctor", "speak", 1)
    assert v.alive == [0, 1, 2, 3, 5, 6]
    assert v.night_dead == {4}
    assert [(c.speaker, c.kind, c.target, c.wolf) for c in v.claims] == [
        (0, "suspect", 2, True), (1, "seer", 3, True)]
    g2 = game()
    play(g2, (0, "kill player_4"))
    assert view_of(g2).proposals == [4]  # the decider sees its teammate's proposal
    play(g2, (3, "kill player_4"))
    seer = view_of(g2)
    assert (seer.role, seer.kind, seer.targets()) == ("Seer", "see", [0, 2, 3, 4, 5, 6])


def test_seer_claims_and_village_votes_the_accused() -> None:
    g = game()
    play(g, (0, "kill player_4"), (3, "kill player_4"), (1, "see player_3"),
         (2, "save player_4"))
    rng = random.Random(0)
    g.act("I have nothing to say.")  # player_0
    claim = decide(view_of(g), rng, "basic")  # player_1, the Seer, found player_3
    assert (claim.say, claim.target) == ("seer_wolf", 3)
    assert decide(view_of(g), rng, "quiet").say == "nothing"  # a quiet Seer keeps it
    g.act(LSPODialect().render(view_of(g), claim))
    echo = decide(view_of(g), rng, "basic")  # the Doctor repeats the accusation
    assert (echo.say, echo.target) == ("suspect", 3)
    all_speak(g)
    g.act("vote for player_1")  # player_0 (a wolf)
    assert decide(view_of(g), rng, "basic").target == 3  # the Seer votes its wolf
    g.act("vote for player_3")
    assert decide(view_of(g), rng, "basic").target == 3  # the Doctor follows the claim


def test_wolves_defend_or_bus() -> None:
    # player_4's claim accuses player_3; player_0 (the other wolf) speaks after it on day 2
    g = game()
    play(g, (0, "kill player_5"), (3, "kill player_5"), (1, "see player_0"),
         (2, "save player_5"))
    play(g, (0, "I have nothing to say."), (1, "I am the Seer and player_3 is a Werewolf."))
    all_speak(g)
    play(g, *((p, "do not vote") for p in range(7)))
    play(g, (0, "kill player_6"), (3, "kill player_6"), (1, "see player_3"),
         (2, "save player_6"))
    rng = random.Random(0)
    defend = decide(view_of(g), rng, "basic")  # player_0 counter-claims against the Seer
    assert (defend.say, defend.target) == ("seer_wolf", 1)
    bus = decide(view_of(g), rng, "bus")  # ... or throws its teammate under the bus
    assert (bus.say, bus.target) == ("suspect", 3)


def test_wolves_attack_the_claimed_seer_and_the_decider_follows() -> None:
    g = game()
    play(g, (0, "kill player_5"), (3, "kill player_5"), (1, "see player_0"),
         (2, "save player_5"))
    play(g, (0, "I have nothing to say."), (1, "I am the Seer and player_0 is a Werewolf."))
    all_speak(g)
    play(g, *((p, "do not vote") for p in range(7)))
    rng = random.Random(0)
    assert decide(view_of(g), rng, "basic").target == 1
    g.act("kill player_6")
    assert decide(view_of(g), rng, "basic").target == 6  # follows the proposal


def test_registered_as_scripted_policies() -> None:
    host = get_host()
    assert set(host.env("werewolf").extras["bots"]) == {"basic", "bus", "quiet"}
    policy = make_scripted_policy("bus", host=host, env="werewolf", template="plain")
    g = game()
    request = GenerationRequest([], SamplingParams(), None, obs_of(g),
                                Task(env="werewolf", id="t", seed=0), "ep/player_0")
    reply = asyncio.run(policy.generate([request]))[0].text
    assert reply in g.legal(g.turn)
    with pytest.raises(ValueError, match="unknown scripted policy 'shark' for environment "
                                         "'werewolf'; known: gold, expert, random, basic"):
        make_scripted_policy("shark", host=host, env="werewolf")


def test_basic_village_beats_random_village_against_the_same_wolves() -> None:
    async def village_wins(village: str, wolves: str, n: int = 60) -> int:
        wins = 0
        for task in make_tasks("train", n=n):
            env = WerewolfEnv()
            obs = await env.reset(task)
            teams = {s: t["team"] for s, t in env.seat_tags().items()}
            bots = {"village": WerewolfBot(task, style=village),
                    "werewolves": WerewolfBot(task, style=wolves)}
            while True:
                tr = await env.step(bots[teams[obs.agent]].act(obs))
                obs = tr.observation
                if tr.done:
                    wins += tr.info.get("winner") == "village"
                    break
        return wins

    basic, rand = asyncio.run(village_wins("basic", "basic")), \
        asyncio.run(village_wins("random", "basic"))
    assert basic > rand + 5, (basic, rand)


def test_bots_replay_exactly() -> None:
    def moves(seed: int) -> list[str]:
        g = Game(make_rules(), seed)
        bot = WerewolfBot(Task(env="werewolf", id="t", seed=seed), style="basic")
        out = []
        while not g.over:
            out.append(bot.act(obs_of(g)))
            g.act(out[-1])
        return out

    assert moves(3) == moves(3)
    assert DEAL  # the helpers' deal is the one the hand tests use
