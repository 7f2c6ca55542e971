"""Run configs: YAML + overrides, one-line errors naming field, value and expectation,
discriminated policy backends, registry-checked estimator params, subclassing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from turnrl.core.config import (
    ConfigError,
    HFPolicyConfig,
    OpenAIPolicyConfig,
    RunConfig,
    Section,
    apply_override,
    load_config,
)
from turnrl.core.hookspecs import hookimpl
from turnrl.core.host import PluginHost


def _load(*overrides: str, path: Path | None = None) -> RunConfig:
    return load_config(path, list(overrides), check_references=False)


def test_defaults_are_valid() -> None:
    config = _load()
    assert config.env.name == "toy-env"
    assert isinstance(config.policy, HFPolicyConfig)
    assert config.rollout.group_size == 4


def test_yaml_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("env:\n  name: toy-env\n  options: {max_steps: 9}\n"
                    "policy:\n  backend: openai\n  model: qwen\n"
                    "rollout:\n  groups: 2\n  group_size: 8\n")
    config = _load("rollout.group_size=3", "policy.sampling.temperature=0",
                   "env.options.size=5", "eval.seeds=[1, 2]", "run_dir=/tmp/x", path=path)
    assert isinstance(config.policy, OpenAIPolicyConfig)
    assert config.policy.model == "qwen"
    assert config.policy.sampling.temperature == 0.0
    assert (config.rollout.groups, config.rollout.group_size) == (2, 3)
    assert config.env.options == {"max_steps": 9, "size": 5}
    assert config.eval.seeds == [1, 2]
    assert config.run_dir == "/tmp/x"


def test_override_values_are_yaml_scalars() -> None:
    data: dict = {}
    for item in ("a.int=3", "a.float=0.5", "a.bool=true", "a.none=null", "a.text=hello world",
                 "a.quoted='3'", "a.empty=", "a.list=[1, x]", "a.eq=x=y"):
        apply_override(data, item)
    assert data == {"a": {"int": 3, "float": 0.5, "bool": True, "none": None,
                          "text": "hello world", "quoted": "3", "empty": "", "list": [1, "x"],
                          "eq": "x=y"}}


@pytest.mark.parametrize(("overrides", "message"), [
    (["rollout.gruop_size=3"],
     "rollout.gruop_size: unknown field (expected one of: groups, group_size, max_steps,"),
    (["seed=1.5"], "seed: got 1.5, expected a valid integer"),
    (["rollout.group_size=abc"], "rollout.group_size: got 'abc', expected a valid integer"),
    (["rollout.groups=0"], "rollout.groups: got 0, expected greater than or equal to 1"),
    (["policy.backend=openai"], "policy.model: required field is missing"),
    (["policy.backend=tgi"],
     "policy.backend: got 'tgi', expected one of: 'hf', 'openai', 'vllm'"),
    (["policy.backend=hf", "policy.model=m", "policy.modle=n"],
     "policy.modle: unknown field (expected one of: sampling, backend, model, dtype,"),
    (["policy.sampling.top_p=2"], "policy.sampling.top_p: got 2, expected less than or equal"),
    (["eval.seeds=[1, b]"], "eval.seeds.1: got 'b', expected a valid integer"),
    (["rollout=3"], "rollout: got 3, expected a valid dictionary"),
    (["nonsense"], "override 'nonsense' must look like key.sub=value"),
    (["a..b=1"], "override 'a..b=1' must look like key.sub=value"),
    (["seed=1", "seed.x=2"], "override 'seed.x=2': seed is 1, not a section"),
    (["rollout.groups=0", "seed=x"], "(and 1 more problem)"),
])
def test_errors_are_one_line_naming_field_value_and_expectation(overrides, message) -> None:
    with pytest.raises(ConfigError) as info:
        _load(*overrides)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        _load(path=tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rollout:\n  groups: [1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: line \d+: invalid YAML"):
        _load(path=bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        _load(path=listy)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert _load(path=empty) == RunConfig()


def test_assignment_is_validated() -> None:
    config = _load()
    with pytest.raises(ValueError, match="group_size"):
        config.rollout.group_size = 0


class ClipParams(BaseModel):
    model_config = {"extra": "forbid"}
    clip: float = Field(0.2, gt=0)
    normalise: bool = True


@pytest.fixture(scope="module")
def estimator_host() -> PluginHost:
    class Plugin:
        @hookimpl
        def turnrl_register_advantages(self, register):
            register("clipped", lambda batch, **p: None, params=ClipParams, description="c")
            register("free", lambda batch, **p: None, description="no params model")

    # the built-in environments and backends, and these two estimators only
    host = PluginHost(builtins=("turnrl.plugins.toy", "turnrl.inference.plugin"),
                      entry_point_group=None)
    host.register_plugin(Plugin(), "estimators")
    return host


def test_estimator_params_are_validated_against_the_registry(estimator_host) -> None:
    config = load_config(None, ["advantage.name=clipped", "advantage.params.clip=0.3"],
                         host=estimator_host)
    assert config.advantage.params == {"clip": 0.3, "normalise": True}  # defaults filled in
    with pytest.raises(ConfigError, match=r"^advantage.params.clip: got -1, expected greater"):
        load_config(None, ["advantage.name=clipped", "advantage.params.clip=-1"],
                    host=estimator_host)
    with pytest.raises(ConfigError, match=r"^advantage.params.clp: unknown field \(expected "
                                          r"one of: clip, normalise\)"):
        load_config(None, ["advantage.name=clipped", "advantage.params.clp=1"],
                    host=estimator_host)
    with pytest.raises(ConfigError, match=r"advantage.name: unknown estimator 'grpoo' "
                                          r"\(expected one of: clipped, free\)"):
        load_config(None, ["advantage.name=grpoo"], host=estimator_host)
    free = load_config(None, ["advantage.name=free", "advantage.params.x=1"],
                       host=estimator_host)
    assert free.advantage.params == {"x": 1}


def test_an_empty_registry_refuses_every_reference() -> None:
    empty = PluginHost(builtins=(), entry_point_group=None)
    with pytest.raises(ConfigError, match=r"^policy.backend: unknown policy backend 'hf' "
                                          r"\(expected one of: none\)"):
        load_config(None, [], host=empty)


@pytest.mark.parametrize(("overrides", "message"), [
    (["env.name=nosuch"], "env.name: unknown environment 'nosuch' (expected one of: "),
    (["env.train_split=nosuch"],
     "env.train_split: environment 'toy-env' has no split 'nosuch' (expected one of: train, "
     "valid, test)"),
    (["env.eval_split=valid_seen"], "env.eval_split: environment 'toy-env' has no split "),
    (["eval.panel=dev"], "eval.panel: environment 'toy-env' has no split 'dev'"),
    (["advantage.name=grpoo"], "advantage.name: unknown estimator 'grpoo' (expected one of: "),
    (["policy.backend=vllm", "policy.model=m", "env.name=nosuch"], None),
])
def test_references_are_resolved_before_any_work(overrides: list[str], message: str | None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from turnrl.cli import main

    if message is None:  # every name resolves except the env: the env is named
        message = "env.name: unknown environment 'nosuch'"
    assert main(["config", *overrides]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1


class TrainerSection(Section):
    lr: float = Field(1e-6, gt=0)


class TrainConfig(RunConfig):
    trainer: TrainerSection = Field(default_factory=TrainerSection)


def test_subclass_gets_the_same_loading_and_errors() -> None:
    config = load_config(None, ["trainer.lr=0.001"], model=TrainConfig, check_references=False)
    assert isinstance(config, TrainConfig)
    assert config.trainer.lr == 0.001
    with pytest.raises(ConfigError, match=r"^trainer.lrr: unknown field \(expected one of: lr\)"):
        load_config(None, ["trainer.lrr=1"], model=TrainConfig, check_references=False)
    with pytest.raises(ConfigError, match=r"^trainer: unknown field"):
        load_config(None, ["trainer.lr=1"], check_references=False)
