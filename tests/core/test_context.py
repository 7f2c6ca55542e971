"""Context builder: memory window, admissible actions, verl-agent parsing, bounded prompts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from types import SimpleNamespace

import pytest

from turnrl.core.context import (
    TEMPLATES,
    ContextBuilder,
    ParsedAction,
    PromptTemplate,
    Turn,
    get_template,
    instruction_for,
    parse_verl_agent,
    register_template,
    resolve_template,
)
from turnrl.core.types import Observation


@pytest.fixture(scope="module")
def tiny_tokenizer() -> object:
    """The embedded tiny model's word-level tokenizer for toy-env (no model weights needed)."""
    from turnrl.inference.tiny import build_tokenizer, collect_env_texts

    return build_tokenizer(asyncio.run(collect_env_texts("toy-env", tasks_per_split=4)))


def _history(n: int) -> list[Turn]:
    return [Turn(observation=f"obs-{i}", action=f"act-{i}") for i in range(n)]


def test_window_keeps_only_the_last_history_length_turns() -> None:
    b = ContextBuilder(history_length=2)
    (msg,) = b.messages("find the key", _history(5), Observation("now-here", actions=("a", "b")))
    text = msg["content"]
    assert msg["role"] == "user"
    assert "Your task is to: find the key" in text
    assert "obs-3" in text
    assert "obs-4" in text
    assert "act-4" in text
    assert "obs-2" not in text
    assert "act-0" not in text
    # verl-agent numbering: the window holds observations 4 and 5 of a 5-step history
    assert "[Observation 4: 'obs-3', Action 4: 'act-3']" in text
    assert "already taken 5 step(s)" in text
    assert "You are now at step 6" in text
    assert "current observation is: now-here" in text
    assert "[\'a\'\n \'b\']" in text


def test_first_step_has_no_history_block_and_no_actions_without_env_actions() -> None:
    (msg,) = ContextBuilder().messages("", [], Observation("start"))
    assert "Prior to this step" not in msg["content"]
    assert "admissible actions" not in msg["content"]
    assert "You are now at step 1" in msg["content"]


def test_window_longer_than_history_shows_all_turns() -> None:
    (msg,) = ContextBuilder(history_length=5).messages("t", _history(3), Observation("x"))
    assert "[Observation 1: 'obs-0', Action 1: 'act-0']" in msg["content"]
    assert "most recent 3 observations" in msg["content"]


def test_instruction_is_not_repeated_when_the_observation_holds_it() -> None:
    (msg,) = ContextBuilder().messages("put a vase on shelf", [],
                                      Observation("Welcome. Your task is to: put a vase on shelf."))
    assert "Your task is to:" in msg["content"]
    assert msg["content"].count("put a vase on shelf") == 1


@pytest.mark.parametrize(("data", "first", "expected"), [
    ({"instruction": "find the key"}, "Your task is to: other", "find the key"),
    ({}, "-= Welcome =-\n\nYou see a bed.\n\nYour task is to: put some vase on shelf.",
     "put some vase on shelf."),
    ({}, "You are in a 4x4 grid. The goal is 2 south.", ""),  # no marker: no instruction
])
def test_instruction_for(data: dict, first: str, expected: str) -> None:
    assert instruction_for(data, first) == expected


def test_env_prompt_is_used_by_auto_and_gets_the_full_history() -> None:
    calls: list[dict] = []

    def prompt(observation: str, actions: Sequence[str], **kw: object) -> str:
        calls.append({"observation": observation, "actions": tuple(actions), **kw})
        return "ENV PROMPT"

    spec = SimpleNamespace(extras={"prompt": prompt})
    b = ContextBuilder(resolve_template("auto", spec), history_length=2)
    msgs = b.messages("do it", _history(4), Observation("now", actions=("a", "help")))
    assert msgs == [{"role": "user", "content": "ENV PROMPT"}]
    assert calls == [{"observation": "now", "actions": ("a", "help"), "task": "do it",
                      "history": [(f"obs-{i}", f"act-{i}") for i in range(4)],
                      "step_count": 4, "history_length": 2}]
    assert b.parse("<think>x</think><action>A</action>") == ParsedAction("a", True)
    # without an env prompt, auto is verl-agent; an explicit name ignores the env prompt
    assert resolve_template("auto", SimpleNamespace(extras={})) is TEMPLATES["verl-agent"]
    assert resolve_template("plain", spec) is TEMPLATES["plain"]
    # an environment may name a template for auto instead (code answers need ``raw``)
    named = SimpleNamespace(extras={"template": "raw"})
    assert resolve_template("auto", named) is TEMPLATES["raw"]
    assert resolve_template("plain", named) is TEMPLATES["plain"]


def test_raw_template_sends_the_reply_unchanged() -> None:
    reply = "Fix:\n```python\ndef F(x):\n    return x\n```"
    assert TEMPLATES["raw"].parse(reply) == ParsedAction(reply, True)
    assert TEMPLATES["raw"].parse("  \n") == ParsedAction("  \n", False)
    assert TEMPLATES["raw"].stop == ()


def test_history_length_zero_shows_no_turns() -> None:
    (msg,) = ContextBuilder(history_length=0).messages("t", _history(3), Observation("x"))
    assert "obs-" not in msg["content"]


@pytest.mark.parametrize(("text", "expected"), [
    ("<think>go</think><action>Go North</action>", ParsedAction("go north", True)),
    ("<think>a\nb</think>\n<action>  take   key 1 </action>", ParsedAction("take   key 1", True)),
    ("<action>go north</action>", ParsedAction("go north", False)),  # no think block
    ("<think>x</think><action>a</action><action>b</action>", ParsedAction("a", True)),
    ("<think>x</think><action></action>", ParsedAction("", True)),  # the env answers it
    ("</think> <think> <action>look</action>", ParsedAction("look", True)),  # tags, any order
    ("<think>想</think><action>go north</action>", ParsedAction("go north", False)),  # CJK
    ("I would go north then east, definitely",
     ParsedAction("go north then east, definitely", False)),
])
def test_verl_agent_parser(text: str, expected: ParsedAction) -> None:
    assert parse_verl_agent(text) == expected


def test_untagged_reply_sends_its_last_30_characters() -> None:
    reply = "x" * 50 + "Y" * 30
    parsed = parse_verl_agent(reply)
    assert parsed == ParsedAction("y" * 30, False)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_format_action_round_trips_through_parse(name: str) -> None:
    t = get_template(name)
    for action in ("go north", "take apple 1 from countertop 2"):
        assert t.parse(t.format_action(action)) == ParsedAction(action, True)


def test_template_registry_refuses_duplicates_and_names_unknowns() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_template("verl-agent", TEMPLATES["plain"])
    with pytest.raises(ValueError, match=r"unknown prompt template 'nope'; known: .*verl-agent"):
        ContextBuilder(template="nope")
    custom = PromptTemplate(lambda i, hist, o, h: [{"role": "user", "content": o.text.upper()}],
                            lambda text: ParsedAction(text, True), lambda a: a)
    register_template("test-upper", custom)
    try:
        assert ContextBuilder("test-upper").messages("", [], Observation("hi")) == [
            {"role": "user", "content": "HI"}]
    finally:
        del TEMPLATES["test-upper"]


def test_long_observations_are_clipped() -> None:
    from turnrl.core.context import MAX_OBSERVATION_CHARS

    (msg,) = ContextBuilder().messages("", [], Observation("z" * (3 * MAX_OBSERVATION_CHARS)))
    assert len(msg["content"]) < 2 * MAX_OBSERVATION_CHARS


def _prompt_lengths(history_length: int, tokenizer: object) -> list[int]:
    """Token counts of the prompts of a 50-step toy-env episode with random actions."""
    import turnrl

    async def play() -> list[int]:
        (task,) = turnrl.tasks("toy-env", "valid", n=1, size=6)
        env = turnrl.make("toy-env", max_steps=60)
        b = ContextBuilder(history_length=history_length, tokenizer=tokenizer)
        rng = random.Random(0)
        obs = await env.reset(task, seed=task.seed)
        history: list[Turn] = []
        lengths = []
        for _ in range(50):
            lengths.append(len(b.prompt_ids("reach the goal", history, obs)))
            action = rng.choice(obs.actions or ("look",))
            tr = await env.step(action)
            history.append(Turn(obs.text, action))
            obs = tr.observation
            if tr.done:
                obs = await env.reset(task, seed=task.seed)  # keep going: we measure length
        return lengths

    return asyncio.run(play())


def test_prompt_length_stays_bounded_over_50_steps(tiny_tokenizer: object) -> None:
    lengths = _prompt_lengths(2, tiny_tokenizer)
    assert len(lengths) == 50
    # after the window fills (step 3), the prompt holds 2 turns + the current one: flat, up to
    # the few tokens by which observations and admissible-action lists differ; no growth
    steady = lengths[3:]
    assert max(steady) - min(steady) <= 25, steady
    assert sum(steady[-10:]) / 10 <= sum(steady[:10]) / 10 + 10, steady
    # control: an unbounded window grows with the episode, so the check above can fail
    unbounded = _prompt_lengths(1000, tiny_tokenizer)
    assert unbounded[-1] > 5 * max(steady)
