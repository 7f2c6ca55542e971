"""``kernel``: write Triton kernels for KernelBench-format problems, judged like Dr. Kernel.

Modules: ``catalog`` + ``problems`` (the 50 shipped problems at ``cpu``/``gpu`` scale, a
KernelBench checkout loader), ``extract`` + ``static`` (code block, static hack checks),
``harness`` + ``harness_cuda`` (the program that runs in the sandbox), ``runner`` (files,
command, report parsing), ``evaluate`` (``evaluate_kernel``), ``rewards``, ``feedback``,
``env`` (the multi-turn environment), ``tasks`` (panels), ``expert`` (reference answers).

``from turnrl.plugins.kernelbench import evaluate_kernel`` is the evaluation on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from turnrl.core.hookspecs import hookimpl

__all__ = ["KernelResult", "evaluate_kernel"]


def __getattr__(name: str) -> Any:  # the evaluation pulls pydantic models: import on use
    if name in ("evaluate_kernel", "KernelResult", "evaluate_kernel_details", "aevaluate"):
        from turnrl.plugins.kernelbench import evaluate

        return getattr(evaluate, name)
    raise AttributeError(name)


@hookimpl
def turnrl_register_envs(register: Callable[..., None]) -> None:
    register(
        "kernel",
        "turnrl.plugins.kernelbench.env:KernelEnv",
        tasks="turnrl.plugins.kernelbench.tasks:make_tasks",
        expert="turnrl.plugins.kernelbench.expert:KernelExpert",
        splits=("train", "valid", "test"),
        description="Triton kernels for KernelBench-format problems, sandboxed and "
                    "hack-checked (Dr. Kernel rewards)",
        template="turnrl.plugins.kernelbench.prompt:TEMPLATE",
        tiny_tokenizer="code",  # the tiny model's vocabulary keeps newlines and indentation
        check_options={"timeout": 600.0, "marks": ["slow"]},
    )
