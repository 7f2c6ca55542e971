"""Coding problems in the three test formats peers use, and the loader for a user's JSONL.

A problem is plain JSON (it travels as ``Task.data``)::

    {"id": str, "format": "stdio" | "call" | "assert", "prompt": str,
     "tests": ..., "solution": str (canonical answer, optional), "preamble": str (optional)}

``tests`` by format:

* ``stdio`` — ``{"inputs": [str], "outputs": [str]}`` (APPS / CodeContests / LiveCodeBench
  stdin); each input is fed to the whole program.
* ``call`` — ``{"fn_name": str, "inputs": [str], "outputs": [str]}`` (LiveCodeBench functional,
  LeetCode style); each input holds one JSON value per line, one per argument; each output is
  the JSON of the return value. A ``Solution`` class with that method works too.
* ``assert`` — ``{"steps": [{"code": str, "test": bool}], "entry_point": str}``: MBPP's
  ``test_setup_code`` + ``test_list``, or HumanEval's ``check(candidate)`` split into its
  statements (those holding an ``assert`` of something other than a constant are tests; the
  others set up the ones after them).
  ``preamble`` (HumanEval's prompt: imports, helpers, the signature) runs before the answer.

``load_jsonl`` reads a user's file in any of the shapes found in the wild: this one, verl /
SandboxFusion rows with ``test_cases`` (``{"inputs", "outputs", "fn_name"?}`` or
``{"assert_case": [...]}``, possibly a JSON string), MBPP rows (``text``, ``code``,
``test_list``, ``test_setup_code``) and HumanEval rows (``prompt``, ``test``, ``entry_point``,
``canonical_solution``). A row it cannot read is one error line naming the file and line.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

FORMATS = ("stdio", "call", "assert")


class ProblemError(ValueError):
    """A problem (or a JSONL row) that cannot be used; the message says where and why."""


def count_tests(problem: Mapping[str, Any]) -> int:
    tests = problem["tests"]
    if problem["format"] == "assert":
        return sum(1 for step in tests["steps"] if step["test"])
    return len(tests["inputs"])


def check_problem(problem: Mapping[str, Any], where: str = "problem") -> dict[str, Any]:
    """Validate one problem; returns it as a plain dict (a one-line ``ProblemError`` if bad)."""
    if not isinstance(problem, Mapping):
        raise ProblemError(f"{where}: a problem must be a JSON object")
    for key in ("id", "format", "prompt", "tests"):
        if key not in problem:
            raise ProblemError(f"{where}: missing {key!r}")
    fmt = problem["format"]
    if fmt not in FORMATS:
        raise ProblemError(f"{where}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    tests = problem["tests"]
    if fmt in ("stdio", "call"):
        inputs, outputs = tests.get("inputs"), tests.get("outputs")
        if not isinstance(inputs, list) or not isinstance(outputs, list) or not inputs or \
                len(inputs) != len(outputs) or \
                not all(isinstance(x, str) for x in inputs + outputs):
            raise ProblemError(f"{where}: tests need non-empty, equally long string lists "
                               "'inputs' and 'outputs'")
        if fmt == "call" and not isinstance(tests.get("fn_name"), str):
            raise ProblemError(f"{where}: call-based tests need 'fn_name'")
    else:
        steps = tests.get("steps")
        if not isinstance(steps, list) or not any(s.get("test") for s in steps):
            raise ProblemError(f"{where}: assert tests need 'steps' with at least one test")
    return dict(problem)


def load_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Problems from a JSONL file (see the module docstring for the shapes accepted)."""
    file = Path(path)
    if not file.is_file():
        raise ProblemError(f"{file}: no such file")
    problems = []
    for number, line in enumerate(file.read_text().splitlines(), 1):
        if not line.strip():
            continue
        where = f"{file}:{number}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ProblemError(f"{where}: not JSON ({exc})") from None
        problems.append(check_problem(from_row(row, where), where))
    ids = [p["id"] for p in problems]
    if len(set(ids)) != len(ids):
        raise ProblemError(f"{file}: duplicate problem ids")
    return problems


def from_row(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One JSONL row in any accepted shape -> a problem."""
    if not isinstance(row, Mapping):
        raise ProblemError(f"{where}: each line must be a JSON object")
    if "format" in row and "tests" in row:
        return dict(row)
    if "test_cases" in row:
        return _from_test_cases(row, where)
    if "test_list" in row:
        steps = [{"code": row.get("test_setup_code") or "", "test": False}] if \
            row.get("test_setup_code") else []
        steps += [{"code": t, "test": True} for t in row["test_list"]]
        return {"id": str(row.get("task_id", row.get("id", where))), "format": "assert",
                "prompt": _text(row, where) + "\nYour code should pass these tests:\n" +
                "\n".join(row["test_list"][:3]), "tests": {"steps": steps, "entry_point": ""},
                "solution": row.get("code", ""), "split": row.get("split")}
    if "test" in row and "entry_point" in row:
        return humaneval_problem(row)
    raise ProblemError(f"{where}: unknown row shape (want format+tests, test_cases, test_list "
                       "or HumanEval's test+entry_point)")


def _text(row: Mapping[str, Any], where: str) -> str:
    for key in ("prompt", "question", "text", "problem", "description"):
        if isinstance(row.get(key), str):
            return row[key]
    raise ProblemError(f"{where}: no problem statement (prompt, question, text, problem)")


def _from_test_cases(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    cases = row["test_cases"]
    if isinstance(cases, str):
        try:
            cases = json.loads(cases)
        except ValueError as exc:
            raise ProblemError(f"{where}: test_cases is not JSON ({exc})") from None
    base = {"id": str(row.get("id", row.get("task_id", where))), "prompt": _text(row, where),
            "solution": row.get("solution", row.get("canonical_solution", "")),
            "split": row.get("split")}
    if "assert_case" in cases:
        steps = [{"code": a, "test": True} for a in cases["assert_case"]]
        return {**base, "format": "assert", "tests": {"steps": steps, "entry_point": ""}}
    inputs = [x if isinstance(x, str) else json.dumps(x) for x in cases.get("inputs", [])]
    outputs = [x if isinstance(x, str) else json.dumps(x) for x in cases.get("outputs", [])]
    if cases.get("fn_name"):
        return {**base, "format": "call",
                "tests": {"fn_name": cases["fn_name"], "inputs": inputs, "outputs": outputs}}
    return {**base, "format": "stdio", "tests": {"inputs": inputs, "outputs": outputs}}


def humaneval_problem(row: Mapping[str, Any]) -> dict[str, Any]:
    """A HumanEval row (``task_id, prompt, entry_point, canonical_solution, test``) as an
    assert-format problem: ``check``'s statements become steps, the prompt the preamble."""
    module = ast.parse(row["test"])
    prelude: list[str] = []
    steps: list[dict[str, Any]] = []
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            for statement in node.body:
                code = ast.unparse(statement)
                # `assert True, "..."` (36 HumanEval checks end so) tests nothing: as a test
                # it gave a wrong answer partial credit
                holds_assert = any(isinstance(n, ast.Assert) and
                                   not isinstance(n.test, ast.Constant)
                                   for n in ast.walk(statement))
                steps.append({"code": code, "test": holds_assert})
        else:
            prelude.append(ast.unparse(node))
    if prelude:
        steps.insert(0, {"code": "\n".join(prelude), "test": False})
    entry = row["entry_point"]
    prompt = ("Complete this Python function (keep its name and signature; answer with the "
              f"whole function):\n\n{row['prompt']}")
    return {"id": row["task_id"], "format": "assert", "prompt": prompt,
            "tests": {"steps": steps, "entry_point": entry}, "preamble": row["prompt"],
            "solution": row["prompt"] + row["canonical_solution"],
            "split": row.get("split")}


def dump_jsonl(problems: Iterable[Mapping[str, Any]], path: str | Path) -> None:
    """Write problems in the native shape (``load_jsonl`` reads them back unchanged)."""
    with open(path, "w") as handle:
        for problem in problems:
            handle.write(json.dumps(dict(problem)) + "\n")
