"""``scripted``: policies that act on the environment state, not on text.

* ``scripted:gold`` (alias ``expert``): the environment plugin's expert,
  ``EnvSpec.expert(task).act(observation)``, one expert instance per episode.
* ``scripted:random``: a uniformly random admissible action (``observation.actions``), drawn
  from a ``random.Random`` seeded with the request's sampling seed, so runs are reproducible.
* ``scripted:NAME``: a bot an environment registered (``bots={NAME: factory}`` in its
  registration, ``factory(task) -> Expert``), e.g. Werewolf's ``scripted:basic``; looked up in
  the environment of each request's task, one bot per episode and seat like the expert.

Both wrap the action in the prompt template's format (``<think>..</think><action>..</action>``
by default) so the engine's parser accepts it exactly as it would a model's reply. They need no
prompt, so they set ``wants_prompt = False`` (see ``Policy``) and the engine skips rendering
one. A policy that acts in a fast environment costs as much as the step itself, so the
formatted reply of each action is built once and reused (actions repeat across steps).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from turnrl.core.context import DEFAULT_TEMPLATE, get_template
from turnrl.core.policy import Completion, GenerationRequest
from turnrl.core.types import Observation, Task


class ScriptedPolicy:
    """Chooses ``choose(request) -> action`` and formats it for the template's parser."""

    wants_prompt = False
    MAX_CACHED_REPLIES = 4096

    def __init__(self, choose: Callable[[GenerationRequest], str], *,
                 template: str = DEFAULT_TEMPLATE) -> None:
        self._choose = choose
        self._format = get_template(template).format_action
        self._replies: dict[str, str] = {}

    def _reply(self, action: str) -> str:
        text = self._replies.get(action)
        if text is None:
            if len(self._replies) >= self.MAX_CACHED_REPLIES:
                self._replies.clear()
            text = self._replies[action] = self._format(action)
        return text

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        if len(requests) == 1:  # the rollout engine's case: one request per episode step
            return [Completion(self._reply(self._choose(requests[0])))]
        return [Completion(self._reply(self._choose(r))) for r in requests]

    def end_episode(self, episode_id: str) -> None:
        """Called by the rollout engine when an episode ends: drop its expert (experts can
        hold a whole world model; keeping finished ones alive slows the garbage collector)."""
        forget = getattr(self._choose, "forget", None)
        if forget is not None:
            forget(episode_id)

    async def close(self) -> None:
        return None


class _Gold:
    """One expert per episode (experts may track their plan), found by the request's
    ``episode_id`` (else by task) and dropped when the engine ends the episode. At most
    ``MAX_EXPERTS`` are kept (least recently used out first), a backstop for callers that
    never end episodes: far more than the episodes in flight. With ``bot`` set, the expert is
    that bot of the task's environment instead of its gold policy."""

    MAX_EXPERTS = 4096

    def __init__(self, host: Any, bot: str | None = None) -> None:
        self.host = host
        self.bot = bot
        self.experts: OrderedDict[object, Any] = OrderedDict()

    def __call__(self, request: GenerationRequest) -> str:
        task: Task | None = request.task
        obs: Observation | None = request.observation
        if task is None or obs is None:
            raise ValueError("scripted:gold needs the request's task and observation")
        key = request.episode_id or (task.env, task.id, task.seed)
        expert = self.experts.get(key)
        if expert is None:
            expert = self.experts[key] = self._make(task)
            if len(self.experts) > self.MAX_EXPERTS:
                self.experts.popitem(last=False)
        else:
            self.experts.move_to_end(key)
        return str(expert.act(obs))

    def _make(self, task: Task) -> Any:
        spec = self.host.env(task.env)
        if self.bot is not None:
            bots = spec.extras.get("bots") or {}
            if self.bot not in bots:
                raise ValueError(f"environment {task.env!r} has no bot {self.bot!r} "
                                 f"(its bots: {', '.join(sorted(bots)) or 'none'})")
            make = bots[self.bot]
            if isinstance(make, str):
                from turnrl.core.host import import_target

                make = bots[self.bot] = import_target(make)
            return make(task)
        if spec.expert is None:
            raise ValueError(f"environment {task.env!r} has no expert (gold) policy")
        return spec.expert(task)

    def forget(self, episode_id: str) -> None:
        self.experts.pop(episode_id, None)


def env_bots(host: Any, env: str | None = None) -> dict[str, list[str]]:
    """Bot name -> the environments that register it (only ``env``'s when given)."""
    found: dict[str, list[str]] = {}
    for name, spec in sorted(host.envs.items()):
        if env is None or name == env:
            for bot in spec.extras.get("bots") or {}:
                found.setdefault(bot, []).append(name)
    return found


def _random(request: GenerationRequest) -> str:
    obs: Observation | None = request.observation
    if obs is None or not obs.actions:
        raise ValueError("scripted:random needs observations that list admissible actions")
    return random.Random(request.sampling.seed).choice(obs.actions)


def make_scripted_policy(spec: str, **options: Any) -> ScriptedPolicy:
    """Factory for ``--policy scripted:gold`` / ``scripted:random``."""
    from turnrl.core.host import get_host

    host = options.pop("host", None) or get_host()
    env = options.pop("env", None)
    template = options.pop("template", DEFAULT_TEMPLATE)
    if options:
        raise ValueError(f"scripted policy: unknown options {sorted(options)}")
    choosers: dict[str, Callable[[], Callable[[GenerationRequest], str]]] = {
        "gold": lambda: _Gold(host), "expert": lambda: _Gold(host), "random": lambda: _random,
    }
    if spec in choosers:
        return ScriptedPolicy(choosers[spec](), template=template)
    bots = env_bots(host, env if env in getattr(host, "envs", {}) else None)
    if spec not in bots:
        where = f" for environment {env!r}" if env else ""
        raise ValueError(f"unknown scripted policy {spec!r}{where}; known: "
                         f"{', '.join([*choosers, *sorted(bots)])}")
    return ScriptedPolicy(_Gold(host, bot=spec), template=template)
