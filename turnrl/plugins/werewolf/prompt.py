"""LSPO's action prompts (Xu et al. 2025, App. C) as this environment's prompt (``auto``).

LSPO asks for JSON (``{"reasoning": ..., "action": ...}`` at night and for votes,
``{"reasoning": ..., "statement": ...}`` in the discussion). turnrl's replies are read by
verl-agent's projection, so the same two fields are asked for as ``<think>`` (the reasoning)
and ``<action>`` (the action or the statement). The observation is the seat's whole log, so no
memory window is added.
"""

from __future__ import annotations

from collections.abc import Sequence

INTRO = (
    "You are an expert Werewolf player. The players are a village (Villagers, the Seer who sees "
    "one player's side each night, the Doctor who saves one player each night) against hidden "
    "Werewolves who kill one player each night. In the day everyone speaks once and then votes; "
    "the player with the most votes is eliminated. The village wins when every Werewolf is "
    "eliminated; the Werewolves win when they equal the other living players."
)
ASK_ACTION = (
    "First reason about the situation inside <think> </think> tags, then give your action "
    "inside <action> </action> tags: exactly one of the actions listed above."
)
ASK_STATEMENT = (
    "First reason about the situation inside <think> </think> tags (what you want the others "
    "to believe and why), then give your statement inside <action> </action> tags: the exact "
    "words you say to everyone, one short paragraph."
)


def render_prompt(observation: str, actions: Sequence[str], *, task: str = "",
                  history: Sequence[tuple[str, str]] = (), step_count: int = 0,
                  history_length: int = 0) -> str:
    """One turn's prompt: the rules, the seat's log (ending with its legal actions), the ask."""
    speaking = "make a statement" in observation.rsplit("\n", 1)[-1]
    return "\n\n".join((INTRO, observation, ASK_STATEMENT if speaking else ASK_ACTION))
