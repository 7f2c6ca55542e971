"""Kernel environment tests.

Three ways to run an answer, from fastest to most faithful:

- ``in_process``: the harness's ``run`` called inside pytest (no torch import per answer, ~0.1-1 s
  each). Only for answers written here that cannot hurt the process: the shipped experts and the
  benign bad answers (decoy, cached output, wrong numerics, in-place mutation, wrong shape...).
- ``InProcessRunner``: the same, behind the sandbox ``run`` API, for environment tests.
- ``sandbox_runner``: a real sandbox (``turnrl.sandboxes`` bwrap) when it can start here, else a
  bare ``TrustedSubprocess`` child (each run imports torch: ~3 s; ``slow`` tier). The hostile
  answers (timer patching, infinite loop, monkey patching) only ever run this way.

TRITON_INTERPRET must be set before triton is first imported: conftest modules load first.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("TRITON_INTERPRET", "1")

INTERPRETER_WARNING = "ignore:Conversion of an array with ndim > 0:DeprecationWarning"

TOLERANCES = {"default": [1e-4, 1e-4], "float16": [1e-2, 1e-2], "bfloat16": [1e-2, 1e-2]}


class _Lines:
    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        self.out = io.StringIO()

    def send(self, payload: dict[str, Any]) -> None:
        self.out.write(self.nonce + " " + json.dumps(payload, default=str) + "\n")

    def stage(self, name: str, **extra: Any) -> None:
        self.send({"stage": name, **extra})


def run_harness_in_process(workdir: Path, problem: str, answer: str,
                           **config: Any) -> dict[str, Any]:
    """The harness's verdict on a *trusted* answer, computed inside this process."""
    from turnrl.plugins.kernelbench import harness

    cfg = {"nonce": "n", "trials": 3, "seed": 42, "tolerances": TOLERANCES, "device": "cpu"}
    cfg.update(config)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "problem.py").write_text(problem)
    (workdir / "answer.py").write_text(answer)
    before = os.getcwd()
    result = harness.new_result()
    os.chdir(workdir)
    try:
        harness.run(cfg, _Lines("n"), result)
    finally:
        os.chdir(before)
        sys.modules.pop("answer", None)
        sys.modules.pop("problem", None)
    return result


class InProcessRunner:
    """The sandbox ``run`` API served by the in-process harness. Trusted answers only."""

    trusted_only = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = 0

    async def run(self, code: str | None = None, *, command: Any = None, language: str = "",
                  files: dict[str, bytes] | None = None, stdin: str = "", timeout: float = 10,
                  limits: Any = None, env: Any = None) -> Any:
        from turnrl.plugins.kernelbench import harness
        from turnrl.plugins.kernelbench.runner import RunOutput

        self.runs += 1
        workdir = self.root / f"run{self.runs}"
        workdir.mkdir(parents=True)
        for name, data in (files or {}).items():
            (workdir / name).write_bytes(data)
        cfg = json.loads(stdin)
        lines = _Lines(cfg["nonce"])
        result = harness.new_result()
        start = time.perf_counter()
        before = os.getcwd()
        os.chdir(workdir)
        try:
            try:
                harness.run(cfg, lines, result)
            except BaseException as exc:
                result["error"] = result["error"] or harness.error_text(exc)
                result["error_stage"] = result["error_stage"] or "harness"
        finally:
            os.chdir(before)
            sys.modules.pop("answer", None)
            sys.modules.pop("problem", None)
        result["times"]["total_s"] = time.perf_counter() - start
        lines.send({"result": result})
        return RunOutput("ok", 0, lines.out.getvalue(), "", False,
                         time.perf_counter() - start)


def _bwrap_sandbox() -> Any:
    try:
        from turnrl.sandboxes import make_sandbox

        return make_sandbox("bwrap")
    except Exception:
        return None


@pytest.fixture
def in_process_runner(tmp_path: Path) -> InProcessRunner:
    return InProcessRunner(tmp_path)


@pytest.fixture(scope="session")
def sandbox_runner() -> Any:
    """A real bwrap sandbox when one can start here, else a trusted bare child process."""
    from turnrl.plugins.kernelbench.runner import TrustedSubprocess

    return _bwrap_sandbox() or TrustedSubprocess()
