"""verl-agent's WebShop prompt (prompts/webshop.py + WebshopEnvironmentManager)."""

from __future__ import annotations

from turnrl.plugins.webshop.prompt import (
    MAX_PROMPT_CHARS,
    format_actions,
    format_observation,
    render_prompt,
    task_description,
)

TASK = "Find me red shirts, and price lower than 30.00 dollars"
RESET = f"WebShop [SEP] Instruction: [SEP] {TASK} [SEP] Search"
RESULTS = (f"Instruction: [SEP] {TASK} [SEP] Back to Search [SEP] Page 1 (Total results: 1) "
           "[SEP] Next > [SEP] B0X [SEP] Red Shirt [SEP] $9.99")


def test_task_and_observation_formatting() -> None:
    assert task_description(RESET) == TASK
    assert format_observation(RESET, TASK) == "'Search'"
    assert format_observation(RESULTS, TASK) == (
        "'Back to Search' [SEP] 'Page 1 (Total results: 1)' [SEP] 'Next >' [SEP] 'B0X' [SEP] "
        "'Red Shirt' [SEP] '$9.99'")
    assert format_observation("no instruction here", TASK) == "no instruction here"
    assert format_actions(["search[<your query>]", "click[search]"]) == (
        "'search[<your query>]',\n'click[search]',")


def test_first_turn_prompt() -> None:
    prompt = render_prompt(RESET, ["search[<your query>]", "click[search]"], task=TASK)
    assert prompt == (
        "\nYou are an expert autonomous agent operating in the WebShop e‑commerce environment. \n"
        f"Your task is to: {TASK}.\n"
        "Your current observation is: 'Search'.\n"
        "Your admissible actions of the current situation are: \n[\n'search[<your query>]',\n"
        "'click[search]',\n].\n\n"
        "Now it's your turn to take one action for the current step.\n"
        "You should first reason step-by-step about the current situation, then think carefully "
        "which admissible action best advances the shopping goal. This reasoning process MUST be "
        "enclosed within <think> </think> tags. \n"
        "Once you've finished your reasoning, you should choose an admissible action for current "
        "step and present it within <action> </action> tags.\n")


def test_history_window_and_long_prompt_fallback() -> None:
    history = [(RESET, "search[red shirts]"), (RESULTS, "click[next >]"),
               (RESULTS, "click[< prev]")]
    prompt = render_prompt(RESULTS, ["click[b0x]"], task=TASK, history=history, step_count=3,
                           history_length=2)
    assert "Prior to this step, you have already taken 3 step(s). Below are the most recent 2 "\
           "observations and the corresponding actions you took: [Observation 2: " in prompt
    assert "Action 3: 'click[< prev]']\nYou are now at step 4 and your current observation" \
        in prompt
    assert "Observation 1" not in prompt
    long_obs = RESULTS + " [SEP] x" * MAX_PROMPT_CHARS
    fallback = render_prompt(RESULTS, ["click[b0x]"], task=TASK,
                             history=[(long_obs, "a")], step_count=1)
    assert "Prior to this step" not in fallback
