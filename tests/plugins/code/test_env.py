"""The code environment played through the real ``bwrap`` sandbox: multi-turn feedback, every
reward mode computed by hand on one trajectory, state keys, malformed answers, time-outs, the
harness's resistance to early exits, and conformance (``turnrl check code``) on bwrap and
docker."""

from __future__ import annotations

import asyncio

import pytest

from tests.sandboxes.conftest import bwrap_or_skip
from turnrl.core.types import Task
from turnrl.plugins.code.env import CodeEnv
from turnrl.plugins.code.tasks import make_tasks
from turnrl.testing import assert_env_conforms


def fence(code: str) -> str:
    return f"Here is my answer.\n```python\n{code}\n```"


WRONG = fence("print(0)")
PARTIAL = fence("a, b = map(int, input().split())\nprint(a + b if a > 0 else 0)")
RIGHT = fence("a, b = map(int, input().split())\nprint(a + b)")


@pytest.fixture(scope="module")
def sum_task() -> Task:
    bwrap_or_skip()
    return next(t for t in make_tasks("train") if t.id == "code/stdio-sum")


def play(task: Task, answers: list[str], **options) -> list:
    async def go():
        env = CodeEnv(**options)
        first = await env.reset(task)
        steps = [first]
        for answer in answers:
            steps.append(await env.step(answer))
        await env.close()
        return steps

    return asyncio.run(go())


def test_feedback_names_failed_tests_with_expected_and_got(sum_task) -> None:
    first, wrong, partial, right = play(sum_task, [WRONG, PARTIAL, RIGHT])
    assert first.state_key == "passed:"
    assert "3 tests" in first.text
    assert "```python" in first.text
    assert wrong.observation.text.splitlines()[0] == "Passed 0 of 3 tests."
    assert "Test 1 failed:\ninput:\n1 2\nexpected:\n3\ngot:\n0" in wrong.observation.text
    assert partial.observation.text.startswith("Passed 2 of 3 tests.\nTest 2 failed:")
    assert partial.observation.state_key == "passed:0,2"
    assert (partial.terminated, partial.truncated) == (False, False)
    assert right.observation.text == "All 3 tests passed."
    assert right.observation.state_key == "passed:0,1,2"
    assert (right.terminated, right.info["won"]) == (True, True)
    assert right.info["pass_fraction"] == 1.0


@pytest.mark.parametrize(("mode", "rewards"), [
    ("pass_fraction", [0.0, 0.0, 1.0]),
    ("all_or_nothing", [0.0, 0.0, 1.0]),
    ("per_turn", [0.0, 2 / 3, 1.0]),
    ("per_turn_delta", [0.0, 2 / 3, 1 / 3]),
])
def test_reward_modes(sum_task, mode, rewards) -> None:
    steps = play(sum_task, [WRONG, PARTIAL, RIGHT], reward=mode)[1:]
    assert [s.reward for s in steps] == pytest.approx(rewards)


def test_running_out_of_turns_truncates_with_the_last_fraction(sum_task) -> None:
    steps = play(sum_task, [WRONG, PARTIAL], max_turns=2)
    last = steps[-1]
    assert (last.terminated, last.truncated, last.info["won"]) == (False, True, False)
    assert last.reward == pytest.approx(2 / 3)
    assert last.observation.text.endswith("No attempts left.")
    nothing = play(sum_task, [WRONG, PARTIAL], max_turns=2, reward="all_or_nothing")[-1]
    assert nothing.reward == 0.0


def test_malformed_answers_are_invalid_and_cost_a_turn(sum_task) -> None:
    _, prose, broken, right = play(sum_task, ["I think the answer is 3.",
                                              fence("def f(:\n  pass"), RIGHT])
    assert prose.info["valid_action"] is False
    assert prose.observation.text.startswith("No Python code block found")
    assert broken.info["valid_action"] is False
    assert broken.observation.text == "Your code does not parse: line 1: invalid syntax"
    assert right.info == {"won": True, "valid_action": True, "passed": 3, "total": 3,
                          "pass_fraction": 1.0, "turn": 3, "sandbox_status": "ok"}


def test_timeouts_errors_and_early_exits_fail_their_tests(sum_task) -> None:
    loop = play(sum_task, [fence("while True: pass")], test_timeout=0.5)[1]
    assert "Test 1 timed out (0.5 s)." in loop.observation.text
    crash = play(sum_task, [fence("raise ValueError('boom')")])[1]
    assert "Test 1 raised an error:" in crash.observation.text
    assert "ValueError: boom" in crash.observation.text
    call_task = next(t for t in make_tasks("train") if t.id == "code/call-two-sum")
    exit_early = play(call_task, [fence("import sys\nsys.exit(0)")])[1]
    assert exit_early.info["passed"] == 0
    assert_task = next(t for t in make_tasks("train") if t.id == "code/assert-square")
    exit_assert = play(assert_task, [fence("import os\nos._exit(0)")])[1]
    assert exit_assert.info["passed"] == 0
    fake = play(assert_task, [fence("def square(x):\n    return x * x\nprint('PASS ' * 50)")])[1]
    assert fake.info["won"] is True  # printing does not confuse the harness's report


def test_humaneval_task_runs_with_its_prompt_as_preamble() -> None:
    bwrap_or_skip()
    task = make_tasks("test", n=11)[10]  # HumanEval/10: make_palindrome needs is_palindrome
    assert "def is_palindrome" in task.data["preamble"]
    body = ("def make_palindrome(string: str) -> str:\n"
            "    for i in range(len(string) + 1):\n"
            "        if is_palindrome(string[i:]):\n"
            "            return string + string[:i][::-1]\n")
    steps = play(task, [fence(body)])
    assert steps[1].info["won"] is True, steps[1].observation.text


@pytest.mark.slow
def test_conforms_on_bwrap_every_task_won_by_its_expert() -> None:
    bwrap_or_skip()
    report = assert_env_conforms("code")
    assert "229 task(s)" in next(r.message for r in report.results if r.name == "expert solves")


@pytest.mark.slow
@pytest.mark.docker
def test_conforms_on_docker() -> None:
    from tests.sandboxes.test_docker import docker_or_skip

    docker_or_skip(pool_size=0)
    report = assert_env_conforms("code", options={"sandbox": "docker"})
    assert "229 task(s)" in next(r.message for r in report.results if r.name == "expert solves")
