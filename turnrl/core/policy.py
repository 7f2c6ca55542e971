"""The inference side of the contract: what the rollout engine asks of a model backend.

``Policy.generate`` is async and batched. Each ``Completion`` carries the prompt and response
token ids and per-token log-probs, so the trainer never re-tokenises text (re-tokenising is a
classic source of off-policy log-prob mismatch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Message = dict[str, Any]
"""One chat message: ``{"role": "system"|"user"|"assistant", "content": str}``. A message
that carries images has a list of parts as content instead:
``[{"type": "image", "image": "<base64 PNG>"}, ..., {"type": "text", "text": str}]``
(``core.context.with_images``); only backends with ``accepts_images`` get such messages."""


@dataclass(slots=True, frozen=True)
class SamplingParams:
    max_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    """Per-request sampling seed: the engine derives it from (task, episode, step) so that
    evaluations are reproducible on any machine and under any concurrency."""

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ValueError(f"SamplingParams.max_tokens must be >= 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"SamplingParams.temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"SamplingParams.top_p must be in (0, 1], got {self.top_p}")


@dataclass(slots=True)
class GenerationRequest:
    """One model call. ``messages`` is rendered by the backend's chat template unless
    ``prompt_ids`` is given (then it is used verbatim). ``observation`` and ``task`` are passed
    through for scripted policies, which act on the environment state rather than on text."""

    messages: list[Message]
    sampling: SamplingParams = field(default_factory=SamplingParams)
    prompt_ids: list[int] | None = None
    observation: Any = None
    task: Any = None
    episode_id: str | None = None
    """The episode (and seat) the request belongs to, set by the rollout engine: stateful
    scripted policies (an expert that tracks its plan) keep one state per episode by it."""


@dataclass(slots=True)
class Completion:
    text: str
    prompt_ids: list[int] = field(default_factory=list)
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    finish_reason: str = "stop"


@runtime_checkable
class Policy(Protocol):
    """A model backend (or a scripted stand-in) the rollout engine plays episodes with.

    Optional attributes the engine reads when present (a policy without them keeps the
    defaults, so existing backends need no change):

    * ``wants_prompt: bool`` (default True): whether ``generate`` reads the request's
      ``messages``. Scripted policies act on ``request.observation`` and set it False, and the
      engine then skips rendering the prompt and keeping the memory window -- per step, that
      rendering costs as much as a fast environment's step.
    * ``end_episode(episode_id: str) -> None``: called once per finished episode (per seat), so
      a stateful policy can drop what it kept for that episode.
    * ``accepts_images: bool`` (default False): whether ``generate`` takes messages whose
      content is a list of text and image parts (``Message``). When True, the engine attaches
      the current observation's ``images`` to the prompt; otherwise prompts stay text.
    * ``async check() -> None``: one cheap question to the backend (a server: is it there, does
      it serve the model?) that raises with a readable message when not. ``turnrl eval`` and
      ``turnrl rollout`` call it once before a rollout and exit 2 on failure, instead of letting
      every episode fail in turn.
    * ``async end_rollout() -> None``: called once at the end of every ``run_groups`` call, on
      its event loop. Callers (the trainer) run each rollout in its own ``asyncio.run``, so a
      backend holding loop-bound resources (an HTTP session) releases them here.
    """

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        """One completion per request, in order."""
        ...

    async def close(self) -> None:
        """Release the backend (idempotent)."""
        ...


WeightsArg = Mapping[str, Any] | Iterable[tuple[str, Any]]
"""What ``load_weights`` takes: a state dict, or a (lazy) stream of ``(name, tensor)`` pairs."""


@runtime_checkable
class TrainablePolicy(Policy, Protocol):
    """A backend the trainer can push weights into: the one ``load_weights`` contract.

    ``load_weights(weights, *, strict=False) -> None`` is **synchronous** for every backend
    (``hf``, ``vllm``, ``openai``): the trainer calls it from its own (non-async) loop between
    rollouts, and it returns only once the new weights are the ones every later ``generate``
    samples from. A backend with async internals runs them to completion inside the call; none
    returns a coroutine (a coroutine the trainer forgot to await would silently keep the old
    weights).

    * ``weights``: a mapping or an iterator of ``(checkpoint name, tensor)``; tensors may be
      sharded DTensors (the backend gathers them with ``full_tensor()``). An iterator may be the
      trainer's collective gather, so the backend consumes it exactly once, in order, fully.
    * Requests in flight finish on the old weights; requests arriving during the load wait;
      none is sampled from a mix of old and new.
    * ``strict=False`` (default): the given tensors replace theirs, the others stay (a partial
      update). ``strict=True``: every tensor of the model must be given. Names the model does
      not have are always an error (``ValueError`` naming them).
    """

    def load_weights(self, weights: WeightsArg, *, strict: bool = False) -> None:
        """Replace the model's weights; see the class docstring."""
        ...
