"""The gold policy for ``code``: the problem's canonical solution in a fenced block (HumanEval's
own ``prompt + canonical_solution``; the turnrl set's hand-written ones)."""

from __future__ import annotations

from turnrl.core.types import Observation, Task


class CodeExpert:
    def __init__(self, task: Task) -> None:
        solution = task.data.get("solution") or ""
        if not solution.strip():
            raise ValueError(f"task {task.id} has no canonical solution")
        self.answer = f"```python\n{solution.rstrip()}\n```"

    def act(self, observation: Observation) -> str:
        return self.answer
