"""``CodeEnv``: write a program, see which tests fail, try again (up to ``max_turns`` answers).

Each action should hold the whole program in a fenced Python block (the last such block is
used, as verl does). The answer is parsed on the host (never run there), then every test of the
problem runs in one sandbox run (``judge.py``); the reply lists how many tests passed and, for
the first ``feedback_tests`` failures, the input, expected and actual output, the error's last
lines or the time-out. An action with no code block, or code that does not parse, is answered
with a clear message and ``valid_action=False`` (it still uses a turn).

Rewards (``reward=``): ``pass_fraction`` (default: the last answer's fraction of passing tests,
given at the end), ``all_or_nothing`` (1 at the end when every test passes), ``per_turn`` (each
turn gets its own answer's pass fraction, for turn-level estimators such as TRLOO) and
``per_turn_delta`` (each turn gets the change in pass fraction, so the rewards add up to the
final fraction). ``state_key`` is the set of passing tests (``"passed:0,2"``) so step-level
estimators can match states across a group. The episode ends when every test passes
(terminated, ``won``) or when the turns run out (truncated).
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.code.judge import TestOutcome, Verdict, judge
from turnrl.plugins.code.problems import count_tests

RewardMode = Literal["pass_fraction", "all_or_nothing", "per_turn", "per_turn_delta"]
MAX_ANSWER_CHARS = 65536
NO_CODE = ("No Python code block found. Answer with your whole program in one fenced block: "
           "```python ... ```")
_FENCE = re.compile(r"```[ \t]*(python3?|py)?[ \t]*\n(.*?)```", re.S | re.I)


class CodeEnvOptions(BaseModel):
    """Options of ``make("code", ...)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sandbox: str = Field("bwrap", description="sandbox backend the tests run in")
    sandbox_options: dict[str, Any] = Field(default_factory=dict,
                                            description="options for make_sandbox")
    max_turns: int = Field(3, ge=1, description="answers allowed per episode")
    reward: RewardMode = "pass_fraction"
    test_timeout: float = Field(4.0, gt=0, description="seconds per test")
    feedback_tests: int = Field(3, ge=0, description="failed tests described in the reply")


def extract_code(text: str) -> str | None:
    """The last fenced Python block (```python / ```py / a bare ``` fence), or None."""
    blocks = _FENCE.findall(text)
    if not blocks:
        return None
    tagged = [code for lang, code in blocks if lang]
    return (tagged or [code for _, code in blocks])[-1]


def parse_error(code: str) -> str | None:
    """Why ``code`` does not parse (one line), or None. Parsing never runs anything."""
    if len(code) > MAX_ANSWER_CHARS:
        return f"the program is longer than {MAX_ANSWER_CHARS} characters"
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


_SANDBOXES: dict[str, Any] = {}


def shared_sandbox(name: str, options: dict[str, Any]) -> Any:
    """One sandbox per (backend, options) per process: a Docker pool is not rebuilt per
    episode, and bwrap's probes run once."""
    from turnrl.sandboxes import make_sandbox

    key = f"{name}:{json.dumps(options, sort_keys=True, default=str)}"
    if key not in _SANDBOXES:
        _SANDBOXES[key] = make_sandbox(name, **options)
    return _SANDBOXES[key]


class CodeEnv:
    def __init__(self, **options: Any) -> None:
        try:
            self.options = CodeEnvOptions(**options)
        except ValidationError as exc:
            from turnrl.sandboxes.api import SandboxUsageError, one_line

            raise SandboxUsageError(f"code environment: {one_line(exc)}") from None
        self.sandbox = shared_sandbox(self.options.sandbox, self.options.sandbox_options)
        self.problem: dict[str, Any] | None = None
        self.closed = False

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        if self.closed:
            raise RuntimeError("CodeEnv.reset called after close()")
        self.problem = dict(task.data)
        self.total = count_tests(self.problem)
        self.turn = 0
        self.passing: tuple[int, ...] = ()
        self.last_fraction = 0.0
        self.done = False
        opener = (f"{self.problem['prompt']}\n\nAnswer with your complete Python solution in "
                  f"one ```python code block. You have {self.options.max_turns} attempt(s); "
                  f"after each one you will see which of the {self.total} tests failed.")
        return Observation(text=opener, state_key=self._state())

    async def step(self, action: str) -> Transition:
        if self.problem is None:
            raise RuntimeError("CodeEnv.step called before reset()")
        if self.done:
            raise RuntimeError("CodeEnv.step called after the episode ended")
        self.turn += 1
        code = extract_code(action)
        problem_text = NO_CODE if code is None else parse_error(code)
        verdict: Verdict | None = None
        if problem_text is None:
            assert code is not None
            verdict = await judge(self.sandbox, self.problem, code,
                                  test_timeout=self.options.test_timeout)
            self.passing = verdict.passed
            fraction = verdict.fraction
            text = self._feedback(verdict)
        else:
            fraction = 0.0
            text = problem_text if code is None else f"Your code does not parse: {problem_text}"
        won = verdict is not None and verdict.all_passed
        truncated = not won and self.turn >= self.options.max_turns
        self.done = won or truncated
        if truncated:
            text += " No attempts left."
        reward = self._reward(fraction, won)
        self.last_fraction = fraction
        info: dict[str, Any] = {"won": won, "valid_action": problem_text is None,
                                "passed": len(verdict.passed) if verdict else 0,
                                "total": self.total, "pass_fraction": fraction,
                                "turn": self.turn}
        if verdict is not None and verdict.sandbox is not None:
            info["sandbox_status"] = verdict.sandbox.status
        return Transition(observation=Observation(text=text, state_key=self._state()),
                          reward=reward, terminated=won, truncated=truncated, info=info)

    async def close(self) -> None:
        self.closed = True  # the sandbox is shared by the process, not owned by the episode

    # ------------------------------------------------------------------ helpers
    def _state(self) -> str:
        return "passed:" + ",".join(str(i) for i in self.passing)

    def _reward(self, fraction: float, won: bool) -> float:
        mode = self.options.reward
        if mode == "per_turn":
            return fraction
        if mode == "per_turn_delta":
            return fraction - self.last_fraction
        if not self.done:
            return 0.0
        if mode == "all_or_nothing":
            return 1.0 if won else 0.0
        return fraction

    def _feedback(self, verdict: Verdict) -> str:
        if verdict.compile_error:
            return "Your code does not compile:\n" + _clip(verdict.compile_error)
        passed = len(verdict.passed)
        if verdict.all_passed:
            return f"All {self.total} tests passed."
        lines = [f"Passed {passed} of {self.total} tests."]
        failures = [(i, o) for i, o in enumerate(verdict.outcomes) if not o.passed]
        for index, outcome in failures[:self.options.feedback_tests]:
            lines.append(self._describe(index, outcome))
        if len(failures) > self.options.feedback_tests:
            lines.append(f"({len(failures) - self.options.feedback_tests} more failed.)")
        return "\n".join(lines)

    def _describe(self, index: int, outcome: TestOutcome) -> str:
        assert self.problem is not None
        head = f"Test {index + 1}"
        fmt = self.problem["format"]
        shown_input = ""
        if fmt in ("stdio", "call"):
            label = "input" if fmt == "stdio" else "arguments"
            shown_input = f"\n{label}:\n{_clip(self.problem['tests']['inputs'][index])}"
        if outcome.status == "timeout":
            return f"{head} timed out ({self.options.test_timeout:g} s).{shown_input}"
        if outcome.status in ("error", "not run"):
            return f"{head} raised an error:{shown_input}\n{_clip(outcome.detail)}"
        if fmt == "assert":
            return f"{head} failed: {_clip(outcome.expected)}\n{_clip(outcome.detail)}".rstrip()
        return (f"{head} failed:{shown_input}\nexpected:\n{_clip(outcome.expected)}\n"
                f"got:\n{_clip(outcome.got)}")


def _clip(text: str, limit: int = 300) -> str:
    text = text.strip("\n")
    return text if len(text) <= limit else text[:limit] + " ..."

