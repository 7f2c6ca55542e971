"""``KernelEnv``: write a Triton ``ModelNew``, read the judge's feedback, try again.

Dr. Kernel's multi-turn loop (default 3 turns). Each turn's reply is judged by
``evaluate.aevaluate`` in the sandbox; the next observation is the feedback (compile error
lines, which trial failed and by how much, decoy and hack findings, the speedup when timed) and
the request for an improved ``ModelNew``. Every turn earns its own kernel's reward, so TRLOO
gets turn-level returns (``turn_rewards: false`` pays only the last turn instead).

The episode terminates when a turn is *won* (correct, not a decoy, no hack finding) unless
``stop_on_correct`` is off (on a GPU, turns after a correct kernel can still buy speed), and
in any case after ``max_turns``: that is the task's natural end, so it is ``terminated``, not
``truncated``. A reply without a code block is answered with a clear message and
``valid_action=False``. A sandbox failure or a broken reference raises: the rollout keeps the
episode as ``env_error`` instead of punishing the model for the machinery.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.kernelbench.prompt import IMPROVE, problem_prompt


class KernelEnvOptions(BaseModel):
    """Options of the ``kernel`` environment (``env.options`` in a run config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_turns: int = Field(3, ge=1)
    stop_on_correct: bool = True
    turn_rewards: bool = True
    """True: each turn earns its kernel's reward; False: only the last turn is paid."""
    sandbox: str = "bwrap"
    """Sandbox backend for the answers (``turnrl.sandboxes``)."""
    sandbox_options: dict[str, Any] = Field(default_factory=dict)
    device: Literal["cpu", "cuda"] = "cpu"
    reward: str = "like_kernel"
    reward_params: dict[str, Any] = Field(default_factory=dict)
    trials: int = Field(5, ge=1)
    tolerance: Literal["kernelbench", "kernelgym"] = "kernelbench"
    atol: float | None = None
    rtol: float | None = None
    timeout_s: float = Field(60.0, gt=0)
    memory_mb: int | None = Field(None, ge=256)
    warmup: int = Field(3, ge=0)
    reps: int = Field(20, ge=1)


class KernelEnv:
    """``KernelEnv(**options)``; ``runner=`` (an object with the sandbox ``run`` API, with
    ``trusted=True`` for ``TrustedSubprocess``) replaces the sandbox in tests and benchmarks of
    trusted code."""

    def __init__(self, *, runner: Any = None, trusted: bool = False, **options: Any) -> None:
        try:
            self.options = KernelEnvOptions(**options)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(x) for x in err["loc"]) or "(options)"
            raise ValueError(f"kernel env option {where}: {err['msg']}") from None
        from turnrl.plugins.kernelbench.rewards import reward_function

        reward_function(self.options.reward, self.options.reward_params)  # fail fast
        self._sandbox: Any = runner
        self._trusted = trusted
        self._task: Task | None = None
        self._seed = 0
        self.turn = 0
        self.done = False
        self.closed = False

    def _eval_options(self) -> dict[str, Any]:
        o = self.options
        return {"device": o.device, "trials": o.trials, "seed": self._seed,
                "tolerance": o.tolerance, "atol": o.atol, "rtol": o.rtol,
                "timeout_s": o.timeout_s, "reward": o.reward, "reward_params": o.reward_params,
                "warmup": o.warmup, "reps": o.reps, "memory_mb": o.memory_mb}

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        if self.closed:
            raise RuntimeError("KernelEnv.reset called after close()")
        if "source" not in task.data:
            raise ValueError(f"task {task.id} has no problem source (data['source'])")
        self._task = task
        self._seed = task.seed if seed is None else int(seed)
        self.turn = 0
        self.done = False
        text = problem_prompt(str(task.data["source"]), device=self.options.device)
        return Observation(text=text, state_key="turn0/start")

    async def step(self, action: str) -> Transition:
        if self._task is None:
            raise RuntimeError("KernelEnv.step called before reset()")
        if self.done:
            raise RuntimeError("KernelEnv.step called after the episode ended")
        from turnrl.plugins.kernelbench.evaluate import aevaluate

        evaluation = await aevaluate(str(self._task.data["source"]), action,
                                     sandbox=self._get_sandbox, trusted=self._trusted,
                                     **self._eval_options())
        self.turn += 1
        result = evaluation.result
        won = result.correct and not result.decoy and not result.hacks
        last = self.turn >= self.options.max_turns
        terminated = last or (won and self.options.stop_on_correct)
        self.done = terminated
        if self.options.turn_rewards:
            reward = result.reward
        else:
            reward = result.reward if terminated else 0.0
        closing = ("Your kernel is correct; the episode is over." if won and terminated else
                   "No turns left; the episode is over." if terminated else IMPROVE)
        text = f"Feedback on your last implementation (turn {self.turn}):\n" \
               f"{result.feedback}\n\n{closing}"
        info = {"won": won, "valid_action": evaluation.valid_action, "turn": self.turn,
                **evaluation.info()}
        return Transition(
            observation=Observation(text=text, state_key=f"turn{self.turn}/{evaluation.stage}"),
            reward=reward, terminated=terminated, truncated=False, info=info)

    def _get_sandbox(self) -> Any:
        """Made on the first answer that needs running (malformed replies never need one)."""
        if self._sandbox is None:
            from turnrl.plugins.kernelbench.evaluate import resolve_sandbox

            self._sandbox = resolve_sandbox(self.options.sandbox,
                                            sandbox_options=self.options.sandbox_options)
        return self._sandbox

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        sandbox, self._sandbox = self._sandbox, None
        if getattr(sandbox, "trusted_only", False):
            return
        closer = getattr(sandbox, "close", None)
        if closer is not None:
            result = closer()
            if hasattr(result, "__await__"):
                await result
