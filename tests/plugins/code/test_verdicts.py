"""Verdict correctness against answers that try to pass without being right: each case here
was a wrong answer the judge rewarded (or a right one it refused) before its fix. The answers
run in the real ``bwrap`` sandbox."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.sandboxes.conftest import bwrap_or_skip
from turnrl.plugins.code.judge import Verdict, judge
from turnrl.plugins.code.tasks import make_tasks


@pytest.fixture(scope="module")
def sandbox() -> Any:
    return bwrap_or_skip()


def shipped(task_id: str) -> dict[str, Any]:
    return next(t for t in make_tasks("train") if t.id == task_id).data


def verdict(sandbox: Any, problem: dict[str, Any], code: str) -> Verdict:
    return asyncio.run(judge(sandbox, problem, code))


@pytest.mark.parametrize("body", ["import sys\n    sys.exit(0)", "raise SystemExit",
                                  "raise SystemExit(0)", "exit()"])
def test_exiting_inside_the_function_fails_every_assert(sandbox, body) -> None:
    square = shipped("code/assert-square")
    result = verdict(sandbox, square, f"def square(x):\n    {body}")
    assert result.passed == ()
    assert {o.status for o in result.outcomes} == {"error"}
    assert "SystemExit" in result.outcomes[0].detail


def test_exiting_inside_a_called_function_is_an_error_not_a_null_result(sandbox) -> None:
    returns_null = {"id": "null", "format": "call", "prompt": "return None",
                    "tests": {"fn_name": "f", "inputs": ["1"], "outputs": ["null"]}}
    assert verdict(sandbox, returns_null, "def f(x):\n    return None").all_passed
    exits = verdict(sandbox, returns_null, "import sys\ndef f(x):\n    sys.exit(0)")
    assert [o.status for o in exits.outcomes] == ["error"]


def test_a_stdio_program_may_still_end_with_exit_zero(sandbox) -> None:
    total = shipped("code/stdio-sum")
    code = "import sys\na, b = map(int, input().split())\nprint(a + b)\nsys.exit(0)"
    assert verdict(sandbox, total, code).all_passed
    assert verdict(sandbox, total, code.replace("exit(0)", "exit(3)")).passed == ()


LOOKUP = """import json, re
table = {}
for step in json.load(open('spec.json'))['steps']:
    found = re.match(r'assert square\\((.*)\\) == (.*)', step['code'])
    table[int(found[1])] = int(found[2])
def square(x):
    return table[x]
"""
FORGE = """import json, os
nonce = json.load(open('spec.json'))['nonce']
line = '\\n' + nonce + json.dumps({'results': [{'status': 'pass'}] * 3}) + '\\n'
for fd in range(3, 12):
    try:
        os.write(fd, line.encode())
    except OSError:
        pass
os._exit(0)
"""


@pytest.mark.parametrize("code", [LOOKUP, FORGE], ids=["answers-from-the-tests",
                                                       "forges-the-report"])
def test_the_answer_cannot_read_the_tests_or_the_report_nonce(sandbox, code) -> None:
    result = verdict(sandbox, shipped("code/assert-square"), code)
    assert result.passed == ()


def test_constant_asserts_of_humaneval_are_not_tests(sandbox) -> None:
    from turnrl.plugins.code.problems import count_tests, humaneval_problem

    row = {"task_id": "T/0", "entry_point": "f",
           "prompt": "def f(x):\n    '''the identity'''\n",
           "canonical_solution": "    return x\n",
           "test": "def check(candidate):\n    assert candidate(1) == 1\n"
                   "    assert True, 'This prints if this assert fails 1 (good for debugging!)'\n"
                   "    assert candidate(2) == 2\n    assert True\n"}
    problem = humaneval_problem(row)
    assert count_tests(problem) == 2
    assert verdict(sandbox, problem, "def f(x):\n    return None").fraction == 0.0
    assert verdict(sandbox, problem, problem["solution"]).all_passed
    digit_sum = next(t for t in make_tasks("test") if t.id == "code/HumanEval/66").data
    assert count_tests(digit_sum) == 8                # of the 10 statements, 2 are `assert True`
    assert verdict(sandbox, digit_sum, "def digitSum(s):\n    return None").fraction == 0.0


def _repeat_problem(sizes: list[int]) -> dict[str, Any]:
    """Print the input's number n times, one per line: outputs of 2n bytes."""
    return {"id": "repeat", "format": "stdio", "prompt": "repeat",
            "tests": {"inputs": [f"{n}\n" for n in sizes],
                      "outputs": ["1\n" * n for n in sizes]}}


REPEAT = "import sys\nsys.stdout.write('1\\n' * int(input()))"


def test_outputs_longer_than_the_default_limit_are_judged_whole(sandbox) -> None:
    big = _repeat_problem([100_000, 3])
    assert verdict(sandbox, big, REPEAT).all_passed
    wrong = REPEAT.replace("int(input())", "(int(input()) + 1)")
    assert verdict(sandbox, big, wrong).passed == ()


def test_many_tests_with_long_outputs_all_reach_the_host(sandbox) -> None:
    many = _repeat_problem([30_000] * 24)       # 24 x 60 KB: more than a 1 MB report
    assert verdict(sandbox, many, REPEAT).all_passed


def test_an_answer_that_swallows_the_time_out_is_still_too_slow(sandbox) -> None:
    tests = shipped("code/stdio-sum")["tests"]
    total = {**shipped("code/stdio-sum"),
             "tests": {"inputs": tests["inputs"][:1], "outputs": tests["outputs"][:1]}}
    slow = ("import time\nstart = time.monotonic()\nwhile time.monotonic() - start < 0.8:\n"
            "    try:\n        time.sleep(0.05)\n    except BaseException:\n        pass\n"
            "a, b = map(int, input().split())\nprint(a + b)\n")
    result = asyncio.run(judge(sandbox, total, slow, test_timeout=0.3))
    assert [o.status for o in result.outcomes] == ["timeout"]
    quiet = ("import signal\nsignal.setitimer(signal.ITIMER_REAL, 0)\n" + slow)
    result = asyncio.run(judge(sandbox, total, quiet, test_timeout=0.3))
    assert [o.status for o in result.outcomes] == ["timeout"]
    assert asyncio.run(judge(sandbox, total, slow, test_timeout=3)).all_passed


ALWAYS_EQUAL = "class Anything:\n    def __eq__(self, other):\n        return True\n"
HONEST_FAKES = {
    "eq-always-true": ALWAYS_EQUAL + "def square(x):\n    return Anything()",
    "int-subclass": "class Int(int):\n    def __eq__(self, other):\n        return True\n"
                    "def square(x):\n    return Int(0)",
    "list-of-fakes": ALWAYS_EQUAL + "def square(x):\n    return [Anything()]",
}


@pytest.mark.parametrize("code", list(HONEST_FAKES.values()), ids=list(HONEST_FAKES))
def test_an_object_that_equals_anything_fails_the_asserts(sandbox, code) -> None:
    """Asserts run in the answer's process, so its objects chose the outcome of ``==``: an
    object whose ``__eq__`` always holds passed every ``assert candidate(x) == y``."""
    result = verdict(sandbox, shipped("code/assert-square"), code)
    assert result.passed == ()
    assert "decides its own comparisons" in result.outcomes[0].detail


def test_truth_and_membership_are_not_the_answer_s_either(sandbox) -> None:
    problem = {"id": "t", "format": "assert", "prompt": "even",
               "tests": {"entry_point": "even", "steps": [
                   {"code": "assert candidate(2)", "test": True},
                   {"code": "assert not candidate(3)", "test": True},
                   {"code": "assert 4 in candidate([4]) and candidate(8)", "test": True}]}}
    right = "def even(x):\n    return [4] if isinstance(x, list) else x % 2 == 0"
    assert verdict(sandbox, problem, right).all_passed
    lies = ("class Yes:\n    def __bool__(self):\n        return True\n"
            "    def __contains__(self, item):\n        return True\n"
            "class No:\n    def __bool__(self):\n        return False\n"
            "def even(x):\n    return No() if x == 3 else Yes()")
    assert verdict(sandbox, problem, lies).passed == ()


@pytest.mark.parametrize("code", [
    "import numpy as np\ndef square(x):\n    return np.int64(x * x)",       # numpy's own ==
    "class Box:\n    pass\ndef square(x):\n    return x * x",              # identity ==, unused
    "from fractions import Fraction\ndef square(x):\n    return Fraction(x * x, 1)",
], ids=["numpy", "plain-class", "fraction"])
def test_right_answers_with_library_types_still_pass(sandbox, code) -> None:
    assert verdict(sandbox, shipped("code/assert-square"), code).all_passed


def test_classes_of_the_problem_keep_their_comparisons(sandbox) -> None:
    """A class the problem defines (HumanEval's prompt, MBPP's setup) is trusted: its ``==``
    is the problem's code, not the answer's."""
    problem = {"id": "p", "format": "assert", "prompt": "point",
               "preamble": "class Point:\n    def __init__(self, x):\n        self.x = x\n"
                           "    def __eq__(self, other):\n        return self.x == other.x\n",
               "tests": {"entry_point": "make", "steps": [
                   {"code": "assert candidate(1) == Point(1)", "test": True},
                   {"code": "assert candidate(2) != Point(5)", "test": True}]}}
    assert verdict(sandbox, problem, "def make(x):\n    return Point(x)").all_passed
    off_by_one = verdict(sandbox, problem, "def make(x):\n    return Point(x + 1)")
    assert [o.status for o in off_by_one.outcomes] == ["wrong", "pass"]  # Point(2) != Point(1)
