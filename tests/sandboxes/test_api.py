"""The sandbox contract without running anything: ExecResult's fields, Limits, argument checks,
the registry and option errors (one line naming the problem)."""

from __future__ import annotations

import dataclasses

import pytest

from turnrl.core.host import PluginError
from turnrl.sandboxes import ExecResult, Limits, SandboxUsageError, make_sandbox
from turnrl.sandboxes.api import PYTHON, check_relative_path, prepare_run

DEFAULTS = Limits()


def prepare(code=None, **kwargs):
    args = {"command": None, "language": "python", "files": None, "stdin": "",
            "timeout": 10.0, "limits": None, "default_limits": DEFAULTS, "env": None,
            "fetch": None}
    args.update(kwargs)
    return prepare_run(code, **args)


def test_exec_result_has_the_named_fields() -> None:
    names = [f.name for f in dataclasses.fields(ExecResult)]
    assert names[:6] == ["status", "exit_code", "stdout", "stderr", "truncated", "duration_s"]
    assert names[6:] == ["files"]  # fetched files, empty unless fetch= was given
    with pytest.raises(ValueError, match="status must be one of"):
        ExecResult(status="fine", exit_code=0, stdout="", stderr="")  # type: ignore[arg-type]
    assert ExecResult("ok", 0, "", "").ok
    assert not ExecResult("error", 1, "", "").ok


def test_code_becomes_main_py_run_by_the_interpreter() -> None:
    request = prepare("print(1)", stdin="x")
    assert request.argv == (PYTHON, "main.py")
    assert request.files == {"main.py": b"print(1)"}
    assert request.stdin == b"x"
    bash = prepare("echo hi", language="bash")
    assert bash.argv == ("bash", "main.sh")
    assert bash.files == {"main.sh": b"echo hi"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"code": None}, "exactly one of code= and command="),
    ({"code": "x", "command": ["ls"]}, "exactly one of code= and command="),
    ({"command": "ls -l"}, "command must be a non-empty list of strings"),
    ({"command": []}, "command must be a non-empty list of strings"),
    ({"code": "x", "language": "cobol"}, "unknown language 'cobol'; known: bash, python"),
    ({"code": "x", "files": {"/etc/x": b""}}, "must be a relative path"),
    ({"code": "x", "files": {"../x": b""}}, "must be a relative path"),
    ({"code": "x", "files": {"main.py": b""}}, "must not hold 'main.py'"),
    ({"code": "x", "files": {"a": 3}}, "must be bytes or str"),
    ({"code": "x", "timeout": 0}, "timeout must be a positive number"),
    ({"code": "x", "timeout": float("inf")}, "timeout must be a positive number"),
    ({"code": "x", "env": {"A=B": "1"}}, "env entries must be str -> str"),
    ({"code": "x", "env": {"A": 1}}, "env entries must be str -> str"),
    ({"code": "x", "fetch": ["../../etc/passwd"]}, "fetch: '../../etc/passwd' must be"),
    ({"code": "x", "limits": {"memory_mb": 1}}, "bad limits: memory_mb"),
    ({"code": "x", "limits": {"cores": 1}}, "bad limits: unknown option 'cores'"),
])
def test_caller_mistakes_raise_one_line(kwargs, message) -> None:
    code = kwargs.pop("code", None)
    with pytest.raises(SandboxUsageError, match="^[^\n]*" + _escape(message)):
        prepare(code, **kwargs)


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def test_limits_merge_and_cpu_default() -> None:
    merged = DEFAULTS.merged({"memory_mb": 2048})
    assert merged.memory_mb == 2048
    assert merged.processes == DEFAULTS.processes
    assert DEFAULTS.merged(Limits(processes=3)).memory_mb == 512  # a Limits replaces
    assert DEFAULTS.cpu_limit(10.0) == 11
    assert DEFAULTS.cpu_limit(0.2) == 2
    assert Limits(cpu_seconds=2.5).cpu_limit(100) == 3


def test_relative_paths_are_normalised() -> None:
    assert check_relative_path("a/./b/../c.txt", "files") == "a/c.txt"
    for bad in ("", ".", "/abs", "a/../../b"):
        with pytest.raises(SandboxUsageError):
            check_relative_path(bad, "files")


def test_registry_lists_the_backends_and_rejects_unknown_names() -> None:
    from turnrl.core.host import get_host

    assert {"bwrap", "docker", "local", "sandbox-fusion"} <= set(get_host().sandboxes)
    assert "trusted code only" in get_host().sandboxes["local"].description
    with pytest.raises(PluginError, match="unknown sandbox 'firejail'; known: bwrap"):
        make_sandbox("firejail")


def test_bad_options_name_the_option() -> None:
    with pytest.raises(SandboxUsageError, match=r"^sandbox 'local': unknown option 'cpus'$"):
        make_sandbox("local", cpus=2)
    with pytest.raises(SandboxUsageError, match=r"sandbox 'local': limits.memory_mb"):
        make_sandbox("local", limits={"memory_mb": "lots"})
