"""The command line: help everywhere, list (table and JSON), check, play (scripted through
stdin), config errors as one line with exit code 2 and no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from turnrl.cli import COMMANDS, main
from turnrl.core import host as host_module
from turnrl.core.host import PluginHost, reset_host


def turnrl_cli(*args: str, stdin: str = "", env: dict | None = None):
    """Run ``python -m turnrl.cli`` in a subprocess, as a user would."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "turnrl.cli", *args], input=stdin,
                          capture_output=True, text=True, env=full_env, timeout=120)


@pytest.fixture
def toy_only(monkeypatch: pytest.MonkeyPatch):
    """The process-wide host with only the toy plugin (hermetic in-process CLI calls)."""
    monkeypatch.setenv("TURNRL_PLUGINS", "toy")
    monkeypatch.setenv("COLUMNS", "200")
    reset_host()
    yield
    reset_host()


BROKEN_ENV = '''
from turnrl.core.hookspecs import hookimpl
from turnrl.core.types import Observation, Task

class Raises:
    async def reset(self, task, *, seed=None):
        return Observation(text="start", actions=("ok",))
    async def step(self, action):
        raise ValueError("step is broken")
    async def close(self):
        pass

@hookimpl
def turnrl_register_envs(register):
    register("broken-env", Raises, description="step raises",
             tasks=lambda split: [Task(env="broken-env", id="b0", split=split)])
'''


@pytest.fixture
def custom_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A process-wide host with the toy env, a broken env and a plugin that cannot import."""
    (tmp_path / "cli_broken_env.py").write_text(BROKEN_ENV)
    (tmp_path / "cli_cannot_import.py").write_text("import does_not_exist_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(host_module, "_HOST", PluginHost(
        builtins=("turnrl.plugins.toy", "cli_broken_env", "cli_cannot_import"),
        entry_point_group=None))
    yield
    reset_host()


@pytest.mark.parametrize("command", [name for name, _ in COMMANDS])
def test_help_everywhere(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"usage: turnrl {command}" in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out = capsys.readouterr().out
    assert all(name in out for name, _ in COMMANDS)


def test_list_json_shape(toy_only, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["envs", "policies", "advantages", "sandboxes"]
    assert data["envs"] == [{
        "name": "toy-env", "plugin": "toy",
        "description": "Grid navigation with walls; a template plugin for tests and the quickstart",
    }]
    assert data["policies"] == data["advantages"] == data["sandboxes"] == []


def test_list_table_shows_plugin_errors(custom_host, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "toy-env" in out
    assert "broken-env" in out
    assert "plugin cli_cannot_import failed" in out
    assert "No module named 'does_not_exist_anywhere'" in out


def test_check_passes_fails_and_refuses(custom_host, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "toy-env", "--max-tasks", "3"]) == 0
    out = capsys.readouterr().out
    assert "toy-env passes every check" in out
    assert "expert solved 9 task(s)" in out
    assert main(["check", "broken-env"]) == 1
    out = capsys.readouterr().out
    assert "broken-env fails" in out
    assert "step is broken" in out
    assert main(["check", "no-such-env"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("turnrl check: error: unknown env 'no-such-env'; known: broken-env")
    assert main(["check", "toy-env", "--max-tasks", "0"]) == 2


def test_check_json(toy_only, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "toy-env", "--split", "test", "--max-tasks", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["checks"][0] == {"name": "task panels", "status": "pass",
                                   "message": "test: 2 task(s)",
                                   "seconds": report["checks"][0]["seconds"]}


def test_play_through_stdin_wins_the_first_task() -> None:
    # toy-train-4-0000: start (1,0), goal (3,2), walls (0,3) and (3,0); "1" picks the first
    # admissible action, which is "go east" from the start cell
    result = turnrl_cli("play", "toy-env", stdin="nonsense\n1\ngo east\ngo south\ngo south\n",
                        env={"TURNRL_PLUGINS": "toy"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "task toy-train-4-0000" in out
    assert "actions: 1 go east  2 go north  3 go south  4 look" in out
    assert "action: nonsense  reward: 0  (invalid action)" in out
    assert "action: go east  reward: 0" in out
    assert "episode won" in out
    assert out.rstrip().endswith("steps: 5  total reward: 1")


def test_play_stops_at_end_of_input_and_rejects_unknown_task(toy_only, capsys) -> None:
    result = turnrl_cli("play", "toy-env", "--split", "valid", stdin="look\n",
                        env={"TURNRL_PLUGINS": "toy"})
    assert result.returncode == 0
    assert "task toy-valid-4-0000" in result.stdout
    assert "stopped" in result.stdout
    assert result.stdout.rstrip().endswith("steps: 1  total reward: 0")
    assert main(["play", "toy-env", "--task", "toy-train-9999"]) == 2
    assert "no task 'toy-train-9999' in split 'train'" in capsys.readouterr().err


def test_bad_config_key_is_one_line_exit_2() -> None:
    result = turnrl_cli("config", "rollout.gruop_size=3")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("turnrl config: config error: rollout.gruop_size: unknown "
                                    "field (expected one of: groups, group_size,")
    assert "Traceback" not in result.stderr


def test_config_file_and_overrides_print_resolved(toy_only, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # references resolve against the registries: the backends and estimators too
    monkeypatch.setenv("TURNRL_PLUGINS", "toy,inference,advantages")
    reset_host()
    import yaml

    path = tmp_path / "run.yaml"
    path.write_text("rollout:\n  groups: 2\n")
    assert main(["config", str(path), "rollout.group_size=5"]) == 0
    resolved = yaml.safe_load(capsys.readouterr().out)
    assert resolved["rollout"]["groups"] == 2
    assert resolved["rollout"]["group_size"] == 5
    assert resolved["policy"]["backend"] == "hf"


def test_list_imports_no_heavy_dependency() -> None:
    code = ("import sys, turnrl.cli; turnrl.cli.main(['list', '--json']); "
            "print(sorted(m for m in ('torch', 'transformers', 'triton', 'vllm', 'alfworld', "
            "'playwright', 'docker') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_play_names_the_seat_to_act_in_multi_agent_games(capsys) -> None:
    import asyncio
    import io

    from turnrl.commands.play import play
    from turnrl.core.types import Observation, Task, Transition

    class TwoSeats:
        seats = ("red", "blue")

        async def reset(self, task, *, seed=None):
            self.t = 0
            return Observation(text="first move", agent="red", actions=("pass",))

        async def step(self, action):
            self.t += 1
            done = self.t == 2
            return Transition(Observation(text=f"move {self.t}", agent="blue"),
                              reward=0.0, terminated=done,
                              info={"rewards": {"red": 1.0, "blue": -1.0}})

        async def close(self):
            pass

    code = asyncio.run(play(TwoSeats(), Task(env="two", id="g0"), seed=3,
                            stdin=io.StringIO("1\nwhatever\n")))
    out = capsys.readouterr().out
    assert code == 0
    assert "task g0 (seed 3)" in out
    assert out.index("red to act") < out.index("action: pass") < out.index("blue to act")
    assert "episode finished" in out
    assert "steps: 2" in out


def test_version_names_turnrl_and_the_software_runs_record(capsys) -> None:
    """``turnrl --version`` prints what a bug report needs: turnrl's installed version, its git
    commit when run from a checkout, and the versions a run records (torch, numpy, ...)."""
    import platform
    from importlib import metadata

    import numpy

    torch = pytest.importorskip("torch")
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"turnrl {metadata.version('turnrl')}")
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
        assert f"(git {head}" in lines[0]
    assert f"  python {platform.python_version()}" in lines
    assert f"  torch {torch.__version__}" in lines
    assert f"  numpy {numpy.__version__}" in lines
