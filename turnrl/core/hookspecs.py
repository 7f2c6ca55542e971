"""Hook specifications: the whole plugin API of turnrl, and nothing else.

Registration hooks follow the ``register(register)`` pattern: the host passes a callable and
the plugin calls it once per component. The host validates every call and owns the registry,
so a plugin never touches host state directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("turnrl")
hookimpl = pluggy.HookimplMarker("turnrl")


@hookspec
def turnrl_register_envs(register: Callable[..., None]) -> None:
    """``turnrl_register_envs(register)``: register environments.

    ``register(name, factory, *, tasks, description="", splits=("train",), expert=None,
    multi_agent=False, **extras)``. ``factory(**options) -> Env`` (or a ``"module:attr"``
    string, imported on first use); ``tasks(split, **options) -> list[Task]``;
    ``expert(task) -> Expert``. ``extras`` land in ``EnvSpec.extras``; ``check_options={...}``
    there sets defaults for ``turnrl check`` and test marks (see ``turnrl.testing``);
    ``prompt=`` / ``template=`` give the environment's own prompt or whole ``PromptTemplate``
    (``turnrl.core.context.resolve_template``); ``tiny_tokenizer="code"`` makes the tiny model's
    vocabulary keep whitespace (replies that are programs).
    Implemented by environment plugins.
    """


@hookspec
def turnrl_register_policies(register: Callable[..., None]) -> None:
    """``turnrl_register_policies(register)``: register inference backends.

    ``register(name, factory, *, description="")`` with ``factory(spec: str, **options) ->
    Policy``; ``spec`` is the text after ``name:`` in ``--policy name:spec``.
    Implemented by inference plugins (``hf``, ``openai``, ``vllm``, ``scripted``).
    """


@hookspec
def turnrl_register_advantages(register: Callable[..., None]) -> None:
    """``turnrl_register_advantages(register)``: register step-level advantage estimators.

    ``register(name, fn, *, params, description="")`` with ``fn(batch: StepBatch, **params) ->
    np.ndarray`` and ``params`` a pydantic model class holding the defaults.
    Implemented by estimator plugins.
    """


@hookspec
def turnrl_register_sandboxes(register: Callable[..., None]) -> None:
    """``turnrl_register_sandboxes(register)``: register sandbox backends.

    ``register(name, factory, *, description="")`` with ``factory(**options) -> Sandbox``
    (``turnrl.sandboxes.api.Sandbox``). Implemented by sandbox plugins (``bwrap``, ``docker``,
    ``local``, ``sandbox-fusion``); users build one with ``turnrl.sandboxes.make_sandbox``.
    """


@hookspec
def turnrl_episode_end(episode: Any) -> None:
    """``turnrl_episode_end(episode)``: observe a finished ``Episode`` (any status).

    Called by the rollout engine for every episode, in completion order. Implemented by metric
    collectors, filters and stores."""


@hookspec
def turnrl_train_step_end(step: int, metrics: dict[str, float]) -> None:
    """``turnrl_train_step_end(step, metrics)``: observe one finished training iteration.

    ``step`` is the iteration number, ``metrics`` its scalar metrics. Implemented by loggers
    (TensorBoard, W&B, JSONL)."""
