"""verl-agent's WebShop prompt (``agent_system/environments/prompts/webshop.py`` and
``WebshopEnvironmentManager``), as data for the rollout's template registry.

verl-agent takes the task as the text after ``Instruction:`` in the reset observation, shows
each observation as its ``[SEP]`` parts *after* the instruction, each in single quotes, joined
by `` [SEP] `` (the whole text when the instruction is not found), lists the admissible actions
one per line as ``'action',``, and from the second turn on adds the last ``history_length``
(observation, action) pairs as ``[Observation k: '...', Action k: '...']``. A prompt with history
longer than 13,000 characters falls back to the no-history template. Replies are read with the
same projection as ALFWorld's (``<action>`` tags, ``<think>`` tags, no CJK).
"""

from __future__ import annotations

from collections.abc import Sequence

_TAIL = (
    "Your admissible actions of the current situation are: \n[\n{available_actions}\n].\n\n"
    "Now it's your turn to take one action for the current step.\n"
    "You should first reason step-by-step about the current situation, then think carefully "
    "which admissible action best advances the shopping goal. This reasoning process MUST be "
    "enclosed within <think> </think> tags. \n"
    "Once you've finished your reasoning, you should choose an admissible action for current "
    "step and present it within <action> </action> tags.\n"
)
TEMPLATE_NO_HIS = (
    "\nYou are an expert autonomous agent operating in the WebShop e‑commerce environment. \n"
    "Your task is to: {task_description}.\n"
    "Your current observation is: {current_observation}.\n" + _TAIL
)
TEMPLATE = (
    "\nYou are an expert autonomous agent operating in the WebShop e‑commerce environment.\n"
    "Your task is to: {task_description}.\n"
    "Prior to this step, you have already taken {step_count} step(s). Below are the most recent "
    "{history_length} observations and the corresponding actions you took: {action_history}\n"
    "You are now at step {current_step} and your current observation is: "
    "{current_observation}.\n" + _TAIL
)
MAX_PROMPT_CHARS = 13000
SEP = " [SEP] "


def format_observation(text: str, task: str) -> str:
    """verl-agent's ``format_obs``: the parts after the instruction, quoted."""
    parts = text.split(SEP)
    try:
        index = parts.index(task)
    except ValueError:
        return text
    return SEP.join(f"'{p}'" for p in parts[index + 1:])


def format_actions(actions: Sequence[str]) -> str:
    return "\n".join(f"'{a}'," for a in actions)


def task_description(reset_text: str) -> str:
    """verl-agent's ``extract_task``: part 2 of the reset observation."""
    parts = reset_text.split(SEP)
    return parts[2] if len(parts) > 2 and parts[1] == "Instruction:" else ""


def render_prompt(observation: str, actions: Sequence[str], *, task: str = "",
                  history: Sequence[tuple[str, str]] = (), step_count: int = 0,
                  history_length: int = 2) -> str:
    """verl-agent's WebShop prompt for one turn; ``history`` holds every earlier
    (observation, action) pair of the episode, the last ``history_length`` are shown."""
    current = format_observation(observation, task)
    available = format_actions(actions)
    no_history = TEMPLATE_NO_HIS.format(task_description=task, current_observation=current,
                                        available_actions=available)
    if step_count == 0 or history_length <= 0:
        return no_history
    start = max(0, len(history) - history_length)
    lines = [f"[Observation {start + k + 1}: '{format_observation(obs, task)}', "
             f"Action {start + k + 1}: '{act}']" for k, (obs, act) in enumerate(history[start:])]
    prompt = TEMPLATE.format(task_description=task, step_count=step_count,
                             history_length=len(history) - start,
                             action_history="\n".join(lines), current_step=step_count + 1,
                             current_observation=current, available_actions=available)
    return no_history if len(prompt) > MAX_PROMPT_CHARS else prompt
