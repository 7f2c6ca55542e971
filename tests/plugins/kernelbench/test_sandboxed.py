"""The kernel evaluation through a real sandbox (bwrap), every answer in its own process.

Each run imports torch (~3 s on this machine), so this module is the ``slow`` tier: the whole
bad-answer catalogue (hostile answers included: timer and monkey patching, threads, an endless
loop, an answer that kills the process), every shipped expert, and ``turnrl check kernel``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.plugins.kernelbench.answers import CASES
from turnrl.plugins.kernelbench.evaluate import aevaluate
from turnrl.plugins.kernelbench.problems import expert_source, shipped_problem, shipped_problems

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bwrap() -> Any:
    from turnrl.sandboxes import SandboxUnavailable, make_sandbox

    try:
        return make_sandbox("bwrap")
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("name", sorted(CASES))
def test_catalogue_in_the_sandbox(bwrap: Any, name: str) -> None:
    case = CASES[name]
    timeout = 30.0 if name == "infinite_loop" else 120.0
    evaluation = asyncio.run(aevaluate(shipped_problem("l1-relu").source, case.answer,
                                       sandbox=bwrap, trials=3, timeout_s=timeout))
    result = evaluation.result
    assert evaluation.stage == case.stage, result.feedback
    assert (result.compiled, result.correct, result.decoy) == (case.compiled, case.correct,
                                                                case.decoy), result.feedback
    assert set(case.hacks) <= set(result.hacks), result.hacks
    for text in case.feedback:
        assert text in result.feedback, result.feedback
    assert result.reward == pytest.approx(case.reward)


def test_every_expert_in_the_sandbox(bwrap: Any) -> None:
    async def judge_all() -> list[Any]:
        problems = shipped_problems("cpu")
        answers = [f"```python\n{expert_source(p.id)}```" for p in problems]
        results = await asyncio.gather(*(aevaluate(p.source, a, sandbox=bwrap, timeout_s=300)
                                         for p, a in zip(problems, answers, strict=True)))
        return list(zip(problems, results, strict=True))

    for problem, evaluation in asyncio.run(judge_all()):
        r = evaluation.result
        assert (r.correct, r.decoy, r.hacks, r.reward) == (True, False, [], 1.0), \
            (problem.id, r.feedback)


def test_turnrl_check_kernel_cli() -> None:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-m", "turnrl.cli", "check", "kernel", "--max-tasks",
                           "2"], capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "kernel passes every check" in proc.stdout
