"""Judging an answer: run every test of a problem in the sandbox (one harness run) and decide
pass/fail per test with the peers' rules. Reward, feedback and evaluation all call ``judge``,
so they cannot drift apart.

* stdio — SandboxFusion's rule: compare line by line after stripping trailing whitespace of
  each line and blank lines at the ends; a line matches when it is equal, or when every
  whitespace-separated token matches: equal ignoring case (``YES`` = ``yes``), or both numbers
  within relative/absolute 1e-5 — except two integers, which must be equal (with a relative
  tolerance ``1000000006`` would pass for ``1000000007``). Numbers are ASCII decimal literals:
  Python's ``float`` also reads ``1_000`` and non-ASCII digits, which a judge must not.
* call — the return value, round-tripped through JSON (tuples become lists), equals the
  expected JSON value; numbers within 1e-5, integers exactly.
* assert — the statement ran without ``AssertionError`` (decided in the sandbox).
"""

from __future__ import annotations

import json
import math
import re
import secrets
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from turnrl.sandboxes.api import ExecResult, Sandbox

FLOAT_TOLERANCE = 1e-5
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
HARNESS = resources.files("turnrl.plugins.code").joinpath("harness_main.py").read_text()


@dataclass(slots=True)
class TestOutcome:
    passed: bool
    status: str
    """``pass``, ``wrong``, ``error``, ``timeout`` or ``not run``."""
    detail: str = ""
    expected: str = ""
    got: str = ""


@dataclass(slots=True)
class Verdict:
    """All tests of one answer: outcomes in test order, plus what went wrong overall."""

    outcomes: list[TestOutcome] = field(default_factory=list)
    compile_error: str = ""
    sandbox: ExecResult | None = None

    @property
    def passed(self) -> tuple[int, ...]:
        return tuple(i for i, o in enumerate(self.outcomes) if o.passed)

    @property
    def fraction(self) -> float:
        return len(self.passed) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def all_passed(self) -> bool:
        return bool(self.outcomes) and all(o.passed for o in self.outcomes)


# --------------------------------------------------------------------------- comparisons
def _number(token: str) -> float | None:
    if not _DECIMAL.fullmatch(token):
        return None
    value = float(token)
    return value if math.isfinite(value) else None


def _integer_digits(token: str) -> tuple[bool, str]:
    """An integer literal's (negative, digits) without leading zeros: compared as text, since
    ``int()`` refuses more than 4300 digits and big-integer answers are common."""
    digits = token.lstrip("+-").lstrip("0")
    return (token.startswith("-") and bool(digits), digits)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return lines


def stdio_matches(expected: str, got: str) -> bool:
    """SandboxFusion / APPS stdio rule (see the module docstring)."""
    want, have = _lines(expected), _lines(got)
    if len(want) != len(have):
        return False
    for a, b in zip(want, have, strict=True):
        if a == b:
            continue
        ta, tb = a.split(), b.split()
        if len(ta) != len(tb):
            return False
        for x, y in zip(ta, tb, strict=True):
            if x.lower() == y.lower():
                continue
            if _INTEGER.fullmatch(x) and _INTEGER.fullmatch(y):
                if _integer_digits(x) != _integer_digits(y):
                    return False
                continue
            fx, fy = _number(x), _number(y)
            if fx is None or fy is None or not _close(fx, fy):
                return False
    return True


def values_match(expected: Any, got: Any) -> bool:
    """Call-based rule: JSON values equal, numbers within tolerance (bools are not numbers)."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got or (type(expected) is type(got) and expected == got)
    if isinstance(expected, int) and isinstance(got, int):
        return expected == got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return expected == got or _close(float(expected), float(got))
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(
            values_match(a, b) for a, b in zip(expected, got, strict=True))
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(values_match(expected[k], got[k])
                                                     for k in expected)
    return bool(expected == got)


# --------------------------------------------------------------------------- one judged run
def run_request(problem: dict[str, Any], code: str, *, test_timeout: float,
                output_limit: int) -> tuple[dict[str, bytes], bytes, str, float]:
    """The harness files for ``code`` against ``problem``, the test spec (the harness's stdin:
    as a file in the answer's directory the answer could read the asserts' expected values
    and the report's nonce), the nonce, and the run's timeout."""
    tests = problem["tests"]
    nonce = f"turnrl-judge-{secrets.token_hex(8)}:"
    spec = {"format": problem["format"], "nonce": nonce, "timeout": test_timeout,
            "output_limit": kept_output_bytes(problem, output_limit),
            "preamble": problem.get("preamble") or "",
            "fn_name": tests.get("fn_name", ""), "entry_point": tests.get("entry_point", ""),
            "inputs": tests.get("inputs", []), "steps": tests.get("steps", [])}
    files = {"main.py": HARNESS.encode(), "solution.py": code.encode()}
    count = len(spec["inputs"]) + len(spec["steps"]) + 1
    return files, json.dumps(spec).encode(), nonce, min(test_timeout * count + 5.0, 300.0)


def kept_output_bytes(problem: dict[str, Any], output_limit: int) -> int:
    """Bytes of one test's stdout the harness keeps: ``output_limit``, raised to twice the
    longest expected output (a right answer's longer output was cut and judged wrong)."""
    longest = max((len(out.encode()) for out in problem["tests"].get("outputs", [])), default=0)
    return max(output_limit, 2 * longest + 1024)


def report_bytes(problem: dict[str, Any], output_limit: int) -> int:
    """Room on the harness's stdout for its report: every test's kept stdout (or returned
    value) JSON-escaped (up to 6 bytes a byte), plus slack. A fixed 1 MiB lost the whole report,
    passing tests included, once the outputs added up to more."""
    from turnrl.plugins.code.problems import count_tests

    per_test = 6 * (kept_output_bytes(problem, output_limit) + 1)
    return (1 << 20) + count_tests(problem) * per_test


async def judge(sandbox: Sandbox, problem: dict[str, Any], code: str, *,
                test_timeout: float = 4.0, output_limit: int = 1 << 16) -> Verdict:
    """Run ``code`` against every test of ``problem`` in ``sandbox``; never raises for what the
    code does (a sandbox failure marks every test ``not run``)."""
    files, spec, nonce, timeout = run_request(problem, code, test_timeout=test_timeout,
                                              output_limit=output_limit)
    result = await sandbox.run(command=["python", "main.py"], files=files, stdin=spec,
                               timeout=timeout,
                               limits={"output_bytes": report_bytes(problem, output_limit)})
    return read_verdict(problem, result, nonce)


def read_verdict(problem: dict[str, Any], result: ExecResult, nonce: str) -> Verdict:
    """Turn the harness's report (after ``nonce`` on stdout) into per-test outcomes."""
    from turnrl.plugins.code.problems import count_tests

    total = count_tests(problem)
    report: dict[str, Any] | None = None
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(nonce):
            try:
                report = json.loads(line[len(nonce):])
            except ValueError:
                report = None
            break
    if report is None:
        why = {"timeout": "the tests ran out of time", "memory": "the program ran out of "
               "memory", "output_limit": "the program printed too much",
               "sandbox_error": "the sandbox failed"}.get(result.status, "the tests crashed")
        tail = "\n".join(result.stderr.strip().splitlines()[-6:])
        outcome = TestOutcome(False, "timeout" if result.status == "timeout" else "error",
                              f"{why}{': ' + tail if tail else ''}")
        return Verdict([outcome] * total, sandbox=result)
    if "compile_error" in report:
        return Verdict([TestOutcome(False, "error", "does not compile")] * total,
                       compile_error=str(report["compile_error"]), sandbox=result)
    raw = list(report.get("results") or [])
    outcomes = [_outcome(problem, i, raw[i] if i < len(raw) else None) for i in range(total)]
    return Verdict(outcomes, sandbox=result)


def _outcome(problem: dict[str, Any], index: int, raw: dict[str, Any] | None) -> TestOutcome:
    if raw is None:
        return TestOutcome(False, "not run", "the harness stopped before this test")
    status, error = raw.get("status"), str(raw.get("error") or "")
    fmt, tests = problem["format"], problem["tests"]
    if fmt == "assert":
        if status == "pass":
            return TestOutcome(True, "pass")
        code = [s["code"] for s in tests["steps"] if s["test"]][index]
        kind = {"fail": "wrong", "timeout": "timeout"}.get(str(status), "error")
        return TestOutcome(False, kind, error, expected=code)
    expected = tests["outputs"][index]
    if status != "ok":
        return TestOutcome(False, "timeout" if status == "timeout" else "error", error,
                           expected=expected, got=str(raw.get("stdout") or ""))
    if fmt == "stdio":
        got = str(raw.get("stdout") or "")
        ok = stdio_matches(expected, got)
    else:
        got = raw.get("value")
        if got is None:
            return TestOutcome(False, "wrong", "the return value is not JSON-serialisable",
                               expected=expected, got=str(raw.get("repr", "")))
        try:
            ok = values_match(json.loads(expected), json.loads(got))
        except ValueError:
            ok = expected.strip() == str(got).strip()
    return TestOutcome(True, "pass") if ok else TestOutcome(False, "wrong", "",
                                                            expected=expected, got=str(got))
