"""Scripted policies, the policy registry (the ``inference`` built-in plugin) and vllm's
missing-extra error."""

from __future__ import annotations

import asyncio
import builtins
from pathlib import Path
from typing import Any

import pytest

import turnrl
from turnrl.core.context import parse_verl_agent
from turnrl.core.policy import GenerationRequest, SamplingParams
from turnrl.core.types import Observation
from turnrl.inference import make_policy


def test_all_four_backends_are_registered_lazily() -> None:
    host = turnrl.get_host()
    assert {"hf", "openai", "vllm", "scripted"} <= set(host.policies)
    for name in ("hf", "openai", "vllm", "scripted"):
        comp = host.policies[name]
        assert comp.plugin == "inference"
        assert comp.description


def test_gold_acts_like_the_expert_and_parses_valid() -> None:
    (task,) = turnrl.tasks("toy-env", "valid", n=1)
    expert = turnrl.get_host().env("toy-env").expert(task)  # type: ignore[misc]
    policy = make_policy("scripted:gold")

    async def go() -> list[Any]:
        env = turnrl.make("toy-env")
        obs = await env.reset(task, seed=task.seed)
        return [obs, await policy.generate([GenerationRequest([], observation=obs, task=task)])]

    obs, (completion,) = asyncio.run(go())
    parsed = parse_verl_agent(completion.text)
    assert parsed.valid
    assert parsed.action == expert.act(obs)
    assert completion.token_ids == []


def test_random_is_seeded_and_uniform_over_admissible_actions() -> None:
    policy = make_policy("scripted:random")
    obs = Observation("x", actions=("a", "b", "c", "d"))

    def pick(seed: int) -> str:
        req = GenerationRequest([], SamplingParams(seed=seed), observation=obs)
        return parse_verl_agent(asyncio.run(policy.generate([req]))[0].text).action

    picks = [pick(s) for s in range(400)]
    assert picks == [pick(s) for s in range(400)]
    counts = {a: picks.count(a) for a in obs.actions}  # type: ignore[union-attr]
    assert set(counts) == {"a", "b", "c", "d"}
    assert all(60 <= c <= 140 for c in counts.values()), counts


def test_scripted_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="unknown scripted policy 'smart'; known: gold"):
        make_policy("scripted:smart")
    with pytest.raises(ValueError, match="admissible actions"):
        asyncio.run(make_policy("scripted:random").generate(
            [GenerationRequest([], observation=Observation("no actions"))]))


def test_unknown_backend_is_a_plugin_error() -> None:
    from turnrl.core.host import PluginError

    with pytest.raises(PluginError, match=r"unknown polic(y|ie) 'nope'"):
        make_policy("nope:x")


def test_vllm_without_the_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_vllm(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "vllm" or name.startswith("vllm."):
            raise ImportError("No module named 'vllm'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_vllm)
    from turnrl.inference.vllm import MissingExtra

    with pytest.raises(MissingExtra, match=r"install turnrl\[vllm\]"):
        make_policy("vllm:some/model")


def test_hf_tiny_spec_builds_the_embedded_model() -> None:
    with pytest.raises(ValueError, match="needs the environment name"):
        make_policy("hf:tiny")
    with pytest.raises(ValueError, match="no model directory at '/does/not/exist'"):
        make_policy("hf:/does/not/exist")


@pytest.mark.parametrize(("spec", "message"), [
    ("hf:", "hf needs a saved model directory"),
    ("hf:tinyllama-local", "no model directory at 'tinyllama-local'"),
    ("hf:tiny-model", "no model directory at 'tiny-model'"),
    ("hf:tiny:abc", "takes an integer seed"),
    ("hf:EMPTYDIR", "is not a saved transformers model (no config.json in it)"),
])
def test_only_hf_tiny_builds_the_random_model(spec: str, message: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from turnrl.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny-dir-without-weights").mkdir()
    spec = spec.replace("EMPTYDIR", "tiny-dir-without-weights")
    assert main(["eval", "toy-env", "--policy", spec, "--limit", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1
