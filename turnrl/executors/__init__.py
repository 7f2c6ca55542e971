"""Where environments run during a rollout: the engine's own event loop, or elsewhere.

``inprocess`` (the default) makes each instance in the engine's process; blocking ones run on
worker threads (``core.offload``). ``ray`` puts instances in Ray actors across a cluster
(``turnrl.executors.ray``). The engine takes an executor object, ``run_groups(...,
executor=...)``; ``None`` means in-process. Executors are looked up by name here (no
``if name == ...``): a name maps to the ``"module:attr"`` of its class, imported on first use.

An executor object offers ``await env_factory(env, host=..., options=..., concurrency=N)``
(a coroutine function the engine awaits once per episode for a fresh ``Env``), ``describe()``
and ``close()``; it lives as long as its pools of workers should (a training run, an eval).
"""

from __future__ import annotations

from typing import Any


class ExecutorUnavailable(RuntimeError):
    """The executor cannot run here (unknown name, Ray missing, no cluster at the address);
    the message is one line for the user."""

EXECUTORS: dict[str, str | None] = {
    "inprocess": None,
    "ray": "turnrl.executors.ray:RayExecutor",
}
"""Executor name -> ``"module:Class"`` (``None``: the engine's built-in in-process path)."""

__all__ = ["EXECUTORS", "ExecutorUnavailable", "executor_from_config", "make_executor"]


def make_executor(name: str = "inprocess", **settings: Any) -> Any:
    """An executor object by name (``None`` for ``inprocess``); ``settings`` go to its class.
    Raises ``ExecutorUnavailable`` with one line for an unknown name or a missing extra."""
    if name not in EXECUTORS:
        raise ExecutorUnavailable(f"unknown executor {name!r} (expected one of: "
                                  f"{', '.join(EXECUTORS)})")
    target = EXECUTORS[name]
    if target is None:
        return None
    from turnrl.core.host import import_target

    return import_target(target)(**settings)


def executor_settings(rollout: Any) -> tuple[str, dict[str, Any]]:
    """``(name, settings)`` from a run config's ``rollout`` section: the settings are the
    fields of the sub-section named after the executor (``rollout.ray``), if there is one."""
    name = rollout.executor
    section = getattr(rollout, name, None)
    if section is None:
        return name, {}
    return name, {field: getattr(section, field) for field in type(section).model_fields}


def executor_from_config(rollout: Any) -> Any:
    """The executor a run config's ``rollout`` section asks for (``None``: in-process)."""
    name, settings = executor_settings(rollout)
    return make_executor(name, **settings)
