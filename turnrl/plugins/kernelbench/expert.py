"""The gold policy for ``kernel``: the shipped reference Triton solution, as a model would reply.

Only shipped problems have one; a KernelBench checkout's problems do not (``turnrl check`` says
so rather than inventing an answer).
"""

from __future__ import annotations

from turnrl.core.types import Observation, Task
from turnrl.plugins.kernelbench.problems import expert_source


class KernelExpert:
    def __init__(self, task: Task) -> None:
        source = expert_source(str(task.data.get("problem_id")))
        if source is None:
            raise ValueError(f"{task.id}: no reference solution (only the shipped problems "
                             "have one)")
        self.answer = f"```python\n{source.rstrip()}\n```"

    def act(self, observation: Observation) -> str:
        return self.answer
