"""The plugin host: finds plugins, collects their registrations, answers lookups.

Built-in plugins are listed in ``BUILTIN_PLUGINS`` and loaded exactly like third-party ones,
which arrive through the ``turnrl`` entry-point group. Loading is lazy, happens once, and is
fault-isolated: a plugin that fails to import or register is recorded in ``errors`` with its
name and message, and the others still load.

Environment variables:
  ``TURNRL_DISABLE_PLUGINS=a,b``  block these plugins by name (built-in or third-party)
  ``TURNRL_PLUGINS=a,b``          allow-list: load only these
  ``TURNRL_NO_ENTRY_POINTS=1``    skip third-party entry points (hermetic runs)
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from turnrl.core import hookspecs
from turnrl.core.env import EnvSpec
from turnrl.core.types import Task

ENTRY_POINT_GROUP = "turnrl"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "turnrl.plugins.toy",
    "turnrl.plugins.alfworld",
    "turnrl.plugins.gui",
    "turnrl.plugins.webshop",
    "turnrl.plugins.kernelbench",
    "turnrl.plugins.code",
    "turnrl.inference.plugin",
    "turnrl.trainers.advantages.plugin",
    "turnrl.sandboxes.plugin",
)
"""Module paths of the built-in plugins; the plugin's name is the last dotted part that is
not ``plugin`` (``turnrl.plugins.toy`` -> ``toy``)."""

KINDS: tuple[str, ...] = ("envs", "policies", "advantages", "sandboxes")
SINGULAR: dict[str, str] = {"envs": "env", "policies": "policy",
                            "advantages": "advantage", "sandboxes": "sandbox"}


class PluginError(LookupError):
    """A lookup failed: unknown name, or a plugin that could not load. The message says which."""


@dataclass(slots=True)
class Component:
    """A registered policy backend, advantage estimator or sandbox backend."""

    kind: str
    name: str
    plugin: str
    target: Any
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def resolve(self) -> Any:
        """The callable, importing a ``"module:attr"`` target on first use."""
        if isinstance(self.target, str):
            self.target = import_target(self.target)
        return self.target


def import_target(path: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute."""
    module_name, _, attr = path.partition(":")
    if not attr:
        raise PluginError(f"target {path!r} must look like 'package.module:attribute'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def builtin_plugin_name(module_path: str) -> str:
    parts = [p for p in module_path.split(".") if p != "plugin"]
    return parts[-1]


def _name_list(var: str) -> set[str]:
    raw = os.environ.get(var, "")
    return {x.strip() for x in raw.split(",") if x.strip()}


class PluginHost:
    """Owns a pluggy ``PluginManager`` and the four registries built from its hooks."""

    def __init__(self, *, builtins: Iterable[str] = BUILTIN_PLUGINS,
                 entry_point_group: str | None = ENTRY_POINT_GROUP) -> None:
        self.pm = pluggy.PluginManager("turnrl")
        self.pm.add_hookspecs(hookspecs)
        self._builtins = tuple(builtins)
        self._group = entry_point_group
        self._loaded = False
        self._lock = threading.Lock()
        self.envs: dict[str, EnvSpec] = {}
        self.policies: dict[str, Component] = {}
        self.advantages: dict[str, Component] = {}
        self.sandboxes: dict[str, Component] = {}
        self.errors: dict[str, str] = {}
        """plugin name -> why it did not load or register."""
        self.plugins: dict[str, str] = {}
        """plugin name -> where it came from (module path or distribution)."""

    # ------------------------------------------------------------------ loading
    def load(self) -> PluginHost:
        """Load every allowed plugin once; later calls return immediately."""
        with self._lock:
            if self._loaded:
                return self
            self._loaded = True
            blocked = _name_list("TURNRL_DISABLE_PLUGINS")
            allowed = _name_list("TURNRL_PLUGINS")

            def wanted(name: str) -> bool:
                return name not in blocked and (not allowed or name in allowed)

            for module_path in self._builtins:
                name = builtin_plugin_name(module_path)
                if wanted(name):
                    self._add(name, module_path, lambda p=module_path: importlib.import_module(p))
            if self._group and not os.environ.get("TURNRL_NO_ENTRY_POINTS"):
                for ep in entry_points(group=self._group):
                    if wanted(ep.name):
                        source = f"{ep.value} ({ep.dist.name if ep.dist else 'entry point'})"
                        self._add(ep.name, source, ep.load)
            for name in sorted(allowed - blocked - set(self.plugins) - set(self.errors)):
                self.errors[name] = "listed in TURNRL_PLUGINS but no plugin has that name"
            self._collect()
            return self

    def register_plugin(self, plugin: object, name: str) -> None:
        """Add a plugin object at run time (tests, notebooks) and collect its registrations."""
        self.load()
        with self._lock:
            self.pm.register(plugin, name=name)
            self.plugins[name] = type(plugin).__name__
            self._collect(only=name)

    def unregister_plugin(self, name: str) -> None:
        """Remove a plugin added with ``register_plugin`` and everything it registered."""
        with self._lock:
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                self.pm.unregister(plugin)
            self.plugins.pop(name, None)
            self.errors.pop(name, None)
            for kind in KINDS:
                registry = getattr(self, kind)
                for key in [k for k, v in registry.items() if v.plugin == name]:
                    del registry[key]

    def _add(self, name: str, source: str, loader: Callable[[], object]) -> None:
        if self.pm.has_plugin(name):
            self.errors[name] = f"a plugin named {name!r} is already loaded ({self.plugins[name]})"
            return
        try:
            plugin = loader()
            self.pm.register(plugin, name=name)
        except Exception as exc:  # a broken plugin must not take the others down
            self.errors[name] = f"failed to load from {source}: {type(exc).__name__}: {exc}"
            return
        self.plugins[name] = source

    def _collect(self, only: str | None = None) -> None:
        for kind in KINDS:
            caller = getattr(self.pm.hook, f"turnrl_register_{kind}")
            for impl in caller.get_hookimpls():
                if only is not None and impl.plugin_name != only:
                    continue
                registrar = self._registrar(kind, impl.plugin_name)
                registry = getattr(self, kind)
                before = set(registry)
                try:
                    impl.function(register=registrar)
                except Exception as exc:
                    # half a plugin is worse than none: drop what it registered of this kind
                    for key in set(registry) - before:
                        del registry[key]
                    message = f"failed to register {kind}: {type(exc).__name__}: {exc}"
                    previous = self.errors.get(impl.plugin_name)
                    self.errors[impl.plugin_name] = (
                        f"{previous}; {message}" if previous else message)

    def _registrar(self, kind: str, plugin: str) -> Callable[..., None]:
        registry: dict[str, Any] = getattr(self, kind)

        def register(name: str, factory: Any, *, description: str = "", **meta: Any) -> None:
            if not isinstance(name, str) or not name:
                raise ValueError(f"{kind} names must be non-empty strings, got {name!r}")
            if name in registry:
                raise ValueError(
                    f"{SINGULAR[kind]} name {name!r} is registered by both plugin "
                    f"{registry[name].plugin!r} and plugin {plugin!r}"
                )
            if not (callable(factory) or isinstance(factory, str)):
                raise TypeError(
                    f"{SINGULAR[kind]} {name!r}: factory must be callable or 'module:attr'")
            if kind == "envs":
                registry[name] = _env_spec(name, plugin, factory, description, meta)
            else:
                registry[name] = Component(kind, name, plugin, factory, description, meta)

        return register

    # ------------------------------------------------------------------ lookups
    def lookup(self, kind: str, name: str) -> Any:
        self.load()
        registry = getattr(self, kind)
        if name in registry:
            return registry[name]
        known = ", ".join(sorted(registry)) or "none"
        hint = ""
        if self.errors:  # the name may belong to a plugin that failed: say which did
            hint = " (plugins that failed to load: " + "; ".join(
                f"{p}: {e}" for p, e in sorted(self.errors.items())) + ")"
        raise PluginError(f"unknown {SINGULAR[kind]} {name!r}; known: {known}{hint}")

    def env(self, name: str) -> EnvSpec:
        return self.lookup("envs", name)

    def make(self, env_name: str, **options: Any) -> Any:
        """A new instance; one that declares ``blocking`` (at registration or on the instance)
        comes wrapped so that its calls run off the event loop (``core.offload``)."""
        from turnrl.core.offload import off_loop

        spec = self.env(env_name)
        factory = spec.factory
        if isinstance(factory, str):
            factory = spec.factory = import_target(factory)
        return off_loop(factory(**options), spec.extras)

    def tasks(self, env_name: str, split: str, **options: Any) -> list[Task]:
        spec = self.env(env_name)
        if split not in spec.splits:
            raise PluginError(
                f"environment {env_name!r} has no split {split!r}; splits: {', '.join(spec.splits)}"
            )
        return list(spec.tasks(split, **options))


def _env_spec(name: str, plugin: str, factory: Any, description: str,
              meta: dict[str, Any]) -> EnvSpec:
    tasks = meta.pop("tasks", None)
    if tasks is None:
        raise ValueError(f"environment {name!r} must register tasks=callable(split, **options)")
    if isinstance(tasks, str):
        tasks = import_target(tasks)
    expert = meta.pop("expert", None)
    if isinstance(expert, str):
        expert = import_target(expert)
    return EnvSpec(
        name=name, plugin=plugin, factory=factory, tasks=tasks, description=description,
        splits=tuple(meta.pop("splits", ("train",))), expert=expert,
        multi_agent=bool(meta.pop("multi_agent", False)), extras=meta,
    )


_HOST: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide host, loaded on first use."""
    global _HOST
    if _HOST is None:
        _HOST = PluginHost()
    return _HOST.load()


def reset_host() -> None:
    """Forget the process-wide host (tests change environment variables between loads)."""
    global _HOST
    _HOST = None
