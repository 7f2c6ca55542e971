"""The code environment's pure parts: comparison rules (hand-made cases), the JSONL loader on
every accepted shape, answer extraction and parsing, the shipped set's shape."""

from __future__ import annotations

import json

import pytest

from turnrl.plugins.code.env import NO_CODE, extract_code, parse_error
from turnrl.plugins.code.judge import stdio_matches, values_match
from turnrl.plugins.code.problems import ProblemError, count_tests, load_jsonl
from turnrl.plugins.code.shipped import PROBLEMS
from turnrl.plugins.code.tasks import make_tasks


@pytest.mark.parametrize(("expected", "got", "same"), [
    ("3\n", "3", True),
    ("1 2\n3\n", "1 2   \n3\n\n", True),        # trailing spaces and blank lines
    ("YES\n", "yes\n", True),                    # case-insensitive tokens
    ("2.3333333333\n", "2.3333333333333335\n", True),
    ("0.1\n", "0.1000001\n", True),              # within 1e-5
    ("0.1\n", "0.1001\n", False),
    ("1 2\n", "1  2\n", True),                   # tokens, not characters
    ("1 2\n", "12\n", False),
    ("a\nb\n", "b\na\n", False),
    ("5\n", "5.0\n", True),
    ("nan\n", "nan\n", True),
    ("inf\n", "1e309\n", False),
])
def test_stdio_rule(expected, got, same) -> None:
    assert stdio_matches(expected, got) is same


@pytest.mark.parametrize(("expected", "got", "same"), [
    ([0, 1], [0, 1], True),
    ([[1, 6]], [[1, 6]], True),
    (2.5, 2.5000001, True),
    (2, 2.0, True),
    (True, 1, False),                            # a bool is not a number here
    ({"a": 1}, {"a": 1.0}, True),
    ({"a": 1}, {"b": 1}, False),
    ([1, 2], [2, 1], False),
    ("fl", "fl", True),
    (None, None, True),
])
def test_call_rule(expected, got, same) -> None:
    assert values_match(expected, got) is same


def test_extract_code_takes_the_last_python_block() -> None:
    text = "Plan:\n```\nnot this\n```\n```python\nprint(1)\n```\nthen\n```py\nprint(2)\n```"
    assert extract_code(text) == "print(2)\n"
    assert extract_code("```\nprint(3)\n```") == "print(3)\n"
    assert extract_code("print(4)") is None
    assert parse_error("def f(:\n  pass") == "line 1: invalid syntax"
    assert parse_error("x = 1\n") is None
    assert parse_error("a\x00b") is not None
    assert "fenced block" in NO_CODE


def test_jsonl_loader_reads_every_shape(tmp_path) -> None:
    rows = [
        {"id": "native", "format": "stdio", "prompt": "echo",
         "tests": {"inputs": ["a\n"], "outputs": ["a\n"]}, "split": "valid"},
        {"id": "verl-stdio", "prompt": "add", "test_cases": json.dumps(
            {"inputs": ["1 2\n"], "outputs": ["3\n"]})},
        {"id": "verl-call", "question": "double", "test_cases": {
            "fn_name": "double", "inputs": ["2"], "outputs": ["4"]}},
        {"id": "verl-assert", "prompt": "one", "test_cases": {"assert_case": [
            "assert one() == 1"]}},
        {"task_id": 7, "text": "Write add(a, b).", "code": "def add(a, b):\n    return a + b",
         "test_list": ["assert add(1, 2) == 3"], "test_setup_code": "import math"},
        {"task_id": "HE/0", "prompt": "def f():\n    \"\"\"one\"\"\"\n", "entry_point": "f",
         "canonical_solution": "    return 1\n",
         "test": "METADATA = {}\n\ndef check(candidate):\n    x = 1\n"
                 "    assert candidate() == x\n"},
    ]
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    problems = {p["id"]: p for p in load_jsonl(path)}
    assert problems["native"]["split"] == "valid"
    assert problems["verl-stdio"]["format"] == "stdio"
    assert problems["verl-call"]["tests"] == {"fn_name": "double", "inputs": ["2"],
                                              "outputs": ["4"]}
    assert problems["verl-assert"]["tests"]["steps"] == [{"code": "assert one() == 1",
                                                          "test": True}]
    mbpp = problems["7"]
    assert mbpp["tests"]["steps"][0] == {"code": "import math", "test": False}
    assert count_tests(mbpp) == 1
    humaneval = problems["HE/0"]
    assert [s["test"] for s in humaneval["tests"]["steps"]] == [False, False, True]
    assert humaneval["tests"]["entry_point"] == "f"
    assert humaneval["solution"] == rows[-1]["prompt"] + rows[-1]["canonical_solution"]
    tasks = make_tasks("valid", source=str(path))
    assert [t.id for t in tasks] == ["code/native"]
    assert len(make_tasks("train", source=str(path))) == 5


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "mine.jsonl:1: not JSON"),
    ('{"id": "x"}', "mine.jsonl:1: unknown row shape"),
    ('{"id": "x", "format": "stdio", "prompt": "p", "tests": {"inputs": ["1"], "outputs": []}}',
     "mine.jsonl:1: tests need non-empty, equally long string lists"),
    ('{"id": "x", "format": "rust", "prompt": "p", "tests": {}}', "format 'rust' is not one"),
])
def test_jsonl_loader_names_the_bad_line(tmp_path, line, message) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ProblemError, match=message):
        load_jsonl(path)


def test_shipped_set_covers_the_three_formats() -> None:
    formats = [p["format"] for p in PROBLEMS]
    assert len(PROBLEMS) >= 60
    assert {f: formats.count(f) for f in set(formats)} == {"stdio": 22, "call": 22,
                                                          "assert": 21}
    assert len({p["id"] for p in PROBLEMS}) == len(PROBLEMS)
    assert all(p["solution"].strip() and count_tests(p) >= 3 for p in PROBLEMS)


def test_panels_are_fixed_and_humaneval_is_the_test_panel() -> None:
    train, valid, test = (make_tasks(s) for s in ("train", "valid", "test"))
    assert (len(train), len(valid), len(test)) == (50, 15, 164)
    assert not {t.id for t in train} & {t.id for t in valid}
    assert test[0].id == "code/HumanEval/0"
    assert [t.seed for t in make_tasks("train")] == [t.seed for t in train]
    assert {t.data["format"] for t in make_tasks("train", formats=["call"])} == {"call"}
    with pytest.raises(ValueError, match="no split 'dev'"):
        make_tasks("dev")


@pytest.mark.parametrize(("expected", "got", "same"), [
    ("1000000007\n", "1000000006\n", False),     # integers are exact: no relative tolerance
    ("123456789012345\n", "123456789012346\n", False),
    ("7 100000000\n", "7 100000001\n", False),
    ("-0\n", "0\n", True),
    ("007\n", "7\n", True),
    ("+5\n", "5\n", True),
    ("9" * 5000 + "\n", "9" * 5000 + "\n", True),  # past int()'s 4300-digit limit
    ("9" * 5000 + "\n", "9" * 4999 + "8\n", False),
    ("100000000\n", "100000000.0\n", True),      # a float token keeps the float rule
    ("1000\n", "1_000\n", False),                # float() reads these; a judge must not
    ("123\n", "\u0661\u0662\u0663\n", False),
    ("10\n", "\uff11\uff10\n", False),
    ("0.5\n", ".5\n", True),
    ("1e5\n", "100000\n", True),
])
def test_stdio_numbers_are_ascii_and_integers_exact(expected, got, same) -> None:
    assert stdio_matches(expected, got) is same


@pytest.mark.parametrize(("expected", "got", "same"), [
    (10**9 + 7, 10**9 + 6, False),
    (10**18, 10**18 + 1, False),
    ([10**9], [10**9 + 7], False),
    ({"n": 10**12}, {"n": 10**12 + 1}, False),
    (10**18, 1e18, True),                        # one side a float: the float rule
])
def test_call_integers_are_exact(expected, got, same) -> None:
    assert values_match(expected, got) is same
