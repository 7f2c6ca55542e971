"""Context builder: turns an episode's history into the model input for one step.

The model never sees the whole trajectory. Like verl-agent, each step's prompt holds the task
instruction, a memory window of the last ``history_length`` (observation, action) turns and the
current observation with its admissible actions; older turns are dropped, so the prompt length
is bounded however long the episode runs (a 50-step ALFWorld episode would otherwise overflow
any context). The prompt is one user message; the backend renders it with the tokenizer's chat
template (``ContextBuilder.prompt_ids`` does the same when a tokenizer is at hand).

A template is two functions: ``render`` (history -> messages) and ``parse`` (model text ->
action + format validity), plus ``format_action`` (action -> text the parser accepts, used by
scripted policies). Templates live in the ``TEMPLATES`` registry; add one with
``register_template``. The default, ``verl-agent``, asks the model to reason inside
``<think>...</think>`` and act inside ``<action>...</action>``; a reply that breaks that format
is flagged ``valid=False`` (the flag feeds the invalid-action penalty) and, as in verl-agent,
sent to the environment anyway (its tail), which answers it the way the real benchmark does.
An environment registers its own template with the ``template=`` extra (or only a prompt
function with ``prompt=``); ``auto`` picks it.

Images: when the backend accepts them (``Policy.accepts_images``), the builder attaches the
current observation's ``images`` (base64 PNGs, e.g. the GUI environment's screenshot) to the
prompt's last user message as image parts ahead of its text (``with_images``). Only the current
observation's images are sent, never the memory window's, so prompts stay bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from turnrl.core.policy import Message
from turnrl.core.types import Observation

MAX_OBSERVATION_CHARS = 4000
"""Observations longer than this are cut (head kept) so a verbose environment cannot blow up
the prompt; the bound is per observation, so the whole prompt stays bounded too."""

INVALID_TAIL_CHARS = 30
"""verl-agent sends the last 30 characters of a reply that has no action tags."""


@dataclass(slots=True, frozen=True)
class Turn:
    """One past turn of the memory window: what the seat saw and what it did."""

    observation: str
    action: str


@dataclass(slots=True, frozen=True)
class ParsedAction:
    """The action sent to the environment, and whether the reply followed the format."""

    action: str
    valid: bool


@dataclass(slots=True, frozen=True)
class PromptTemplate:
    """A prompt format: how to render a step's messages and how to read the reply."""

    render: Callable[[str, Sequence[Turn], Observation, int], list[Message]]
    """``render(instruction, history, observation, history_length)``: ``history`` holds every
    earlier turn of the seat (``len(history)`` is the step index); show the last
    ``history_length``."""
    parse: Callable[[str], ParsedAction]
    format_action: Callable[[str], str]
    stop: tuple[str, ...] = ()
    """Stop strings the engine passes to the backend (generation can end at the action)."""


# --------------------------------------------------------------------- verl-agent template
_ACTION_RE = re.compile(r"<action>(.*?)</action>", re.DOTALL)
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_OBSERVATION_CHARS else text[:MAX_OBSERVATION_CHARS] + " ..."


clip_observation = _clip
"""Cut an observation to ``MAX_OBSERVATION_CHARS`` (for templates registered by plugins)."""


def _render_verl_agent(instruction: str, history: Sequence[Turn], observation: Observation,
                       history_length: int) -> list[Message]:
    step = len(history)
    window = history[max(0, len(history) - history_length):] if history_length else ()
    lines = ["You are an expert agent operating in an interactive text environment."]
    if instruction and instruction not in observation.text:
        lines.append(f"Your task is to: {_clip(instruction)}")
    if window:
        first = step - len(window) + 1
        turns = "\n".join(f"[Observation {first + i}: '{_clip(t.observation)}', "
                          f"Action {first + i}: '{t.action}']" for i, t in enumerate(window))
        lines.append(
            f"Prior to this step, you have already taken {step} step(s). Below are the "
            f"most recent {len(window)} observations and the corresponding actions you took:\n"
            f"{turns}"
        )
    lines.append(f"You are now at step {step + 1} and your current observation is: "
                 f"{_clip(observation.text)}")
    if observation.actions is not None:
        admissible = "\n ".join(f"'{a}'" for a in observation.actions if a != "help")
        lines.append(f"Your admissible actions of the current situation are: [{admissible}].")
    lines.append(
        "\nNow it's your turn to take an action.\n"
        "You should first reason step-by-step about the current situation. This reasoning "
        "process MUST be enclosed within <think> </think> tags.\n"
        "Once you've finished your reasoning, you should choose an admissible action for "
        "current step and present it within <action> </action> tags."
    )
    return [{"role": "user", "content": "\n".join(lines)}]


def parse_verl_agent(text: str) -> ParsedAction:
    """verl-agent's projection (``alfworld_projection``), reproduced exactly.

    The reply is lower-cased; the action is the text of the first ``<action>...</action>``,
    stripped; the turn is valid only if it has the action tags, both ``<think>`` tags and no
    CJK character. Without action tags the last 30 characters are sent, flagged invalid.
    """
    lower = text.lower()
    match = _ACTION_RE.search(lower)
    if match is None:
        return ParsedAction(lower[-INVALID_TAIL_CHARS:], False)
    valid = "<think>" in lower and "</think>" in lower and _CJK_RE.search(text) is None
    return ParsedAction(match.group(1).strip(), valid)


def _format_verl_agent(action: str) -> str:
    return f"<think> scripted </think> <action> {action} </action>"


# ---------------------------------------------------------------------- plain template
def _render_plain(instruction: str, history: Sequence[Turn], observation: Observation,
                  history_length: int) -> list[Message]:
    """One line per turn and the bare action expected back: for small or base models."""
    window = history[max(0, len(history) - history_length):] if history_length else ()
    parts = [_clip(instruction)] if instruction else []
    parts += [f"> {t.action}\n{_clip(t.observation)}" for t in window]
    parts.append(_clip(observation.text))
    if observation.actions is not None:
        parts.append("Actions: " + ", ".join(observation.actions))
    return [{"role": "user", "content": "\n".join(parts)}]


def _parse_plain(text: str) -> ParsedAction:
    first = text.strip().splitlines()[0] if text.strip() else ""
    action = " ".join(first.split()).lower()
    return ParsedAction(action, bool(action))


def _parse_raw(text: str) -> ParsedAction:
    """The whole reply, unchanged (case, newlines, indentation): the environment parses it."""
    return ParsedAction(text, bool(text.strip()))


_VERL_AGENT = PromptTemplate(_render_verl_agent, parse_verl_agent, _format_verl_agent,
                             stop=("</action>",))
TEMPLATES: dict[str, PromptTemplate] = {
    "verl-agent": _VERL_AGENT,
    "auto": _VERL_AGENT,
    "plain": PromptTemplate(_render_plain, _parse_plain, lambda a: a, stop=("\n",)),
    "raw": PromptTemplate(_render_plain, _parse_raw, lambda a: a),
}
"""``raw`` renders like ``plain`` but sends the whole reply, as written, to the environment:
for environments whose actions are multi-line answers they parse themselves (code blocks)."""
DEFAULT_TEMPLATE = "auto"
"""``auto``: the environment's own template when its plugin names one (``template=`` extra: a
registered name such as ``"raw"``, a ``PromptTemplate`` or ``"module:attr"``), else its own
prompt (``prompt=`` extra, see ``env_template``), else ``verl-agent``. The rollout engine
resolves it per environment."""

TASK_MARKER = "Your task is to: "


def env_template(prompt: Callable[..., str]) -> PromptTemplate:
    """A template from an environment's ``prompt`` extra (e.g. ALFWorld's verl-agent prompt).

    ``prompt(observation_text, actions, *, task, history, step_count, history_length) -> str``
    with ``history`` the seat's earlier ``(observation, action)`` pairs; replies are read with
    verl-agent's projection.
    """
    def render(instruction: str, history: Sequence[Turn], observation: Observation,
               history_length: int) -> list[Message]:
        content = prompt(_clip(observation.text), observation.actions or (), task=instruction,
                         history=[(_clip(t.observation), t.action) for t in history],
                         step_count=len(history), history_length=history_length)
        return [{"role": "user", "content": content}]

    return PromptTemplate(render, parse_verl_agent, _format_verl_agent, stop=("</action>",))


def resolve_template(name: str, env_spec: Any = None) -> PromptTemplate:
    """The template for ``name`` in an environment: ``auto`` picks the env's own template
    (``template=`` extra: a ``PromptTemplate``, a ``"module:attr"`` path to one, or the name of
    a built-in template such as ``"raw"``), else its prompt."""
    extras = getattr(env_spec, "extras", {}) if env_spec is not None else {}
    own = extras.get("template")
    if name == "auto" and own is not None:
        if isinstance(own, str):
            if ":" not in own:
                return get_template(own)
            from turnrl.core.host import import_target

            own = import_target(own)
        if not isinstance(own, PromptTemplate):
            raise TypeError(f"environment {getattr(env_spec, 'name', '?')!r}: its template "
                            f"extra is a {type(own).__name__}, not a PromptTemplate")
        return own
    prompt = extras.get("prompt")
    if name == "auto" and prompt is not None:
        if isinstance(prompt, str):
            from turnrl.core.host import import_target

            prompt = import_target(prompt)
        return env_template(prompt)
    return get_template(name)


def instruction_for(task_data: dict[str, Any], first_observation: str) -> str:
    """The task instruction: ``task.data["instruction"]``, else what follows verl-agent's
    ``"Your task is to: "`` in the first observation (ALFWorld's reset text), else none.

    Without it the task would leave the prompt once the memory window slides past the reset
    observation. We do not fall back to the whole first observation: it usually describes the
    start state too (toy-env's "the goal is 2 south"), which is stale a step later.
    """
    explicit = task_data.get("instruction")
    if explicit:
        return str(explicit)
    _, marker, tail = first_observation.partition(TASK_MARKER)
    return tail.strip() if marker else ""


def register_template(name: str, template: PromptTemplate) -> None:
    """Add a prompt format under ``name`` (refuses to overwrite an existing one)."""
    if name in TEMPLATES:
        raise ValueError(f"prompt template {name!r} is already registered")
    TEMPLATES[name] = template


def get_template(name: str) -> PromptTemplate:
    try:
        return TEMPLATES[name]
    except KeyError:
        known = ", ".join(sorted(TEMPLATES))
        raise ValueError(f"unknown prompt template {name!r}; known: {known}") from None


class ContextBuilder:
    """Renders a step's messages (and, given a tokenizer, its prompt token ids).

    ``images``: attach the current observation's images to the prompt (for backends that
    accept them, ``Policy.accepts_images``)."""

    def __init__(self, template: str | PromptTemplate = DEFAULT_TEMPLATE,
                 history_length: int = 2, tokenizer: Any = None, *,
                 images: bool = False) -> None:
        if history_length < 0:
            raise ValueError(f"history_length must be >= 0, got {history_length}")
        self.template = get_template(template) if isinstance(template, str) else template
        self.history_length = history_length
        self.tokenizer = tokenizer
        self.images = images

    def messages(self, instruction: str, history: Sequence[Turn],
                 observation: Observation) -> list[Message]:
        """The prompt for step ``len(history)``: instruction, memory window, observation
        (and its images when the builder sends images)."""
        messages = self.template.render(instruction, history, observation, self.history_length)
        if self.images and observation.images:
            messages = with_images(messages, observation.images)
        return messages

    def prompt_ids(self, instruction: str, history: Sequence[Turn],
                   observation: Observation) -> list[int]:
        """Token ids of the rendered prompt through the tokenizer's chat template."""
        if self.tokenizer is None:
            raise ValueError("ContextBuilder.prompt_ids needs a tokenizer")
        return render_chat(self.tokenizer, self.messages(instruction, history, observation))

    def parse(self, text: str) -> ParsedAction:
        return self.template.parse(text)

    def format_action(self, action: str) -> str:
        return self.template.format_action(action)


def with_images(messages: list[Message], images: Sequence[str]) -> list[Message]:
    """``messages`` with ``images`` (base64 PNGs) put ahead of the last user message's text,
    as content parts: ``[{"type": "image", "image": b64}, ..., {"type": "text", "text": ...}]``.
    Backends turn these parts into their own format (OpenAI ``image_url`` data URLs, a
    vision-language processor's images)."""
    out = [dict(m) for m in messages]
    for message in reversed(out):
        if message.get("role") == "user":
            parts: list[dict[str, Any]] = [{"type": "image", "image": b64} for b64 in images]
            content = message.get("content")
            if isinstance(content, list):
                parts += content
            elif content:
                parts.append({"type": "text", "text": str(content)})
            message["content"] = parts
            return out
    out.append({"role": "user", "content": [{"type": "image", "image": b64} for b64 in images]})
    return out


def message_text(message: Message) -> str:
    """The text of a message, whether its content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return "" if content is None else str(content)


def message_images(message: Message) -> list[str]:
    """The base64 images among a message's content parts."""
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [str(p["image"]) for p in content if p.get("type") == "image"]


def render_chat(tokenizer: Any, messages: list[Message]) -> list[int]:
    """Chat-template token ids with the generation prompt (the assistant turn opener)."""
    out = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if isinstance(out, dict) or hasattr(out, "keys"):  # transformers 5 returns BatchEncoding
        out = out["input_ids"]
    return [int(x) for x in out]
