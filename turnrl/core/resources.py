"""What one environment instance needs from a machine, declared once by its plugin.

An executor that places environments on a cluster (``rollout.executor: ray``) reads this to
size its pools without knowing any environment by name. A plugin declares it at registration,
like ``blocking`` (``core.offload``)::

    register("gui", factory, tasks=..., resources={"cpus": 1, "memory_mb": 1500, "browser": 1})
    register("kernelbench", factory, tasks=..., resources={"cpus": 2, "gpus": 1})
    register("toy-env", factory, tasks=..., resources={"cpus": 0.02, "per_actor": 64})

or as a function of the environment's options, where backends differ (ALFWorld's simulator is
light, its TextWorld engine is not)::

    register("alfworld", factory, tasks=..., resources=alfworld_resources)  # (**options) -> ...

An environment that runs model answers in a sandbox adds what its sandbox backend declared at
*its* registration (``turnrl_register_sandboxes``: ``resources={"docker": 1}`` -- only nodes
started with a ``docker`` resource have a Docker engine): ``with_sandbox(own, sandbox)``. The
runs happen on the instance's node, so their memory and CPU count there too.

Keys: ``cpus``, ``memory_mb`` and ``gpus`` per instance; ``per_actor`` is how many instances
one worker process hosts side by side (async or thread-offloaded engines share a process
well; a CPU-bound engine wants ``per_actor: 1`` so each gets a core); any other key is a
custom cluster resource per instance (``browser: 1`` places the instance only on nodes started
with ``--resources '{"browser": N}'``). Undeclared, an instance is assumed to need one CPU
and a process of its own: safe for an engine nobody described, wasteful for a light one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

KNOWN = ("cpus", "memory_mb", "gpus", "per_actor")


@dataclass(frozen=True, slots=True)
class EnvResources:
    """Per-instance needs (see the module docstring); ``actor()`` gives one worker's total."""

    cpus: float = 1.0
    memory_mb: float = 0.0
    gpus: float = 0.0
    per_actor: int = 1
    custom: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("cpus", "memory_mb", "gpus"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError(f"resources.{name} must be a number >= 0, got {value!r}")
        if isinstance(self.per_actor, bool) or not isinstance(self.per_actor, int) \
                or self.per_actor < 1:
            raise ValueError(f"resources.per_actor must be an integer >= 1, "
                             f"got {self.per_actor!r}")
        for key, value in self.custom.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"resources: custom resource names must be strings, got {key!r}")
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value <= 0:
                raise ValueError(f"resources.{key} must be a number > 0, got {value!r}")

    @classmethod
    def parse(cls, value: Any) -> EnvResources:
        """An ``EnvResources``, or a mapping of the keys above (unknown keys are custom)."""
        if isinstance(value, EnvResources):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"resources must be a mapping like {{'cpus': 1, 'memory_mb': 500}}"
                             f", got {type(value).__name__}")
        known = {k: value[k] for k in KNOWN if k in value}
        custom = {k: v for k, v in value.items() if k not in KNOWN}
        return cls(**known, custom=custom)

    def actor(self) -> dict[str, Any]:
        """One worker's reservation: what ``per_actor`` instances need together, in the units
        a cluster scheduler takes (CPUs, GPUs, bytes of memory, custom resource counts)."""
        n = self.per_actor
        return {"cpus": self.cpus * n, "gpus": self.gpus * n,
                "memory": int(self.memory_mb * n * 2**20),
                "custom": {k: v * n for k, v in self.custom.items()}}

    def to_dict(self) -> dict[str, Any]:
        return {"cpus": self.cpus, "memory_mb": self.memory_mb, "gpus": self.gpus,
                "per_actor": self.per_actor, **self.custom}


Declaration = EnvResources | Mapping[str, Any] | Callable[..., Any]


def check_declaration(value: Any) -> Declaration:
    """Validate a registration's ``resources`` (a mapping, an ``EnvResources`` or a function of
    the options); the host calls this so a bad declaration fails the plugin's registration."""
    if callable(value) and not isinstance(value, EnvResources):
        return value
    return EnvResources.parse(value)


def resources_for(extras: Mapping[str, Any] | None, factory: Any = None,
                  options: Mapping[str, Any] | None = None) -> EnvResources:
    """The resources one instance needs: the registration's ``resources`` (called with the
    environment's options if it is a function), else a ``resources`` attribute on the factory
    (a class, or the function a ``functools.partial`` wraps), else the default (one CPU, one
    instance per worker)."""
    declared = (extras or {}).get("resources")
    while declared is None and factory is not None:  # functools.partial(MyEnv, ...) too
        declared = getattr(factory, "resources", None)
        factory = getattr(factory, "func", None)
    if declared is None:
        return EnvResources()
    if callable(declared) and not isinstance(declared, EnvResources):
        declared = declared(**dict(options or {}))
    return EnvResources.parse(declared)


def with_sandbox(own: Mapping[str, Any], sandbox: str, host: Any = None) -> dict[str, Any]:
    """``own`` per-instance needs plus those sandbox backend ``sandbox`` registered
    (``resources=`` on its registration): amounts add up, ``per_actor`` stays ``own``'s. An
    unknown backend adds nothing (making the environment will name the problem)."""
    if host is None:
        from turnrl.core.host import get_host

        host = get_host()
    component = host.load().sandboxes.get(sandbox)
    extra = dict((component.meta.get("resources") or {}) if component is not None else {})
    out = dict(own)
    for key, amount in extra.items():
        if key != "per_actor":
            out[key] = out.get(key, 0) + amount
    return out
