"""``evaluate_kernel`` and ``KernelEnv`` end to end on trusted answers (in-process harness)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.kernelbench.answers import CASES, GOOD
from tests.plugins.kernelbench.conftest import INTERPRETER_WARNING, InProcessRunner
from turnrl.core.context import resolve_template
from turnrl.core.host import get_host
from turnrl.core.types import Observation
from turnrl.plugins.kernelbench import KernelResult, evaluate_kernel
from turnrl.plugins.kernelbench.env import KernelEnv
from turnrl.plugins.kernelbench.evaluate import KernelEvalError, aevaluate
from turnrl.plugins.kernelbench.problems import expert_source, shipped_problem
from turnrl.plugins.kernelbench.prompt import IMPROVE, TEMPLATE
from turnrl.plugins.kernelbench.runner import RunOutput, TrustedSubprocess
from turnrl.plugins.kernelbench.tasks import make_tasks
from turnrl.testing import assert_env_conforms

pytestmark = pytest.mark.filterwarnings(INTERPRETER_WARNING)

RELU = shipped_problem("l1-relu").source


def test_kernel_result_has_exactly_the_named_fields() -> None:
    assert [f.name for f in dataclasses.fields(KernelResult)] == [
        "compiled", "correct", "decoy", "hacks", "speedup", "runtime_ms", "ref_runtime_ms",
        "coverage", "reward", "feedback"]


def test_evaluate_kernel_on_the_expert(in_process_runner: InProcessRunner) -> None:
    answer = f"```python\n{expert_source('l1-relu')}```"
    result = evaluate_kernel(RELU, answer, sandbox=in_process_runner, trusted=True)
    assert (result.compiled, result.correct, result.decoy, result.hacks) == (True, True, False,
                                                                            [])
    assert result.speedup is None
    assert result.coverage is None
    assert result.runtime_ms is None
    assert result.reward == 1.0
    assert "Correct on all 5 trials" in result.feedback
    assert "correctness only" in result.feedback


CATALOGUE_IN_PROCESS = [n for n, c in CASES.items() if c.benign]


@pytest.mark.parametrize("name", CATALOGUE_IN_PROCESS)
def test_catalogue_verdicts(name: str, in_process_runner: InProcessRunner) -> None:
    case = CASES[name]
    result = evaluate_kernel(RELU, case.answer, sandbox=in_process_runner, trusted=True,
                             trials=3)
    assert (result.compiled, result.correct, result.decoy) == (case.compiled, case.correct,
                                                                case.decoy), result.feedback
    assert set(case.hacks) <= set(result.hacks), result.hacks
    for text in case.feedback:
        assert text in result.feedback, result.feedback
    assert result.reward == pytest.approx(case.reward)


def test_early_verdicts_run_nothing(in_process_runner: InProcessRunner) -> None:
    for name in ("no_code_block", "syntax_error", "missing_model_new"):
        evaluation = asyncio.run(aevaluate(RELU, CASES[name].answer, sandbox=in_process_runner,
                                           trusted=True))
        assert evaluation.stage == CASES[name].stage
        assert evaluation.valid_action == (name != "no_code_block")
    assert in_process_runner.runs == 0


def test_untrusted_path_refuses_a_bare_subprocess() -> None:
    with pytest.raises(ValueError, match="without isolation"):
        evaluate_kernel(RELU, GOOD, sandbox=TrustedSubprocess())


class _Broken:
    async def run(self, **kwargs: Any) -> RunOutput:
        return RunOutput("sandbox_error", None, "", "bwrap: cannot mount /proc", False, 0.0)


def test_machinery_failures_raise_instead_of_scoring(tmp_path: Path) -> None:
    with pytest.raises(KernelEvalError, match=r"sandbox failed.*cannot mount"):
        evaluate_kernel(RELU, GOOD, sandbox=_Broken())
    broken = RELU.replace("torch.relu(x)", "torch.relu(x, 3)")
    with pytest.raises(KernelEvalError, match="reference Model failed"):
        evaluate_kernel(broken, GOOD, sandbox=InProcessRunner(tmp_path), trusted=True)


def test_tolerance_presets(in_process_runner: InProcessRunner) -> None:
    """1.001 * relu: wrong at KernelBench's 1e-4, right at KernelGYM's 1e-2."""
    answer = CASES["numerics_off"].answer.replace("* 1.01", "* 1.001")
    strict = evaluate_kernel(RELU, answer, sandbox=in_process_runner, trusted=True, trials=2)
    loose = evaluate_kernel(RELU, answer, sandbox=in_process_runner, trusted=True, trials=2,
                            tolerance="kernelgym")
    assert not strict.correct
    assert loose.correct
    assert evaluate_kernel(RELU, answer, sandbox=in_process_runner, trusted=True, trials=2,
                           atol=0.1, rtol=0.0).correct


# ---------------------------------------------------------------------- environment
def _env(tmp_path: Path, **options: Any) -> KernelEnv:
    return KernelEnv(runner=InProcessRunner(tmp_path), trusted=True, trials=2, **options)


def _relu_task() -> Any:
    return make_tasks("train", problems=["l1-relu"])[0]


async def _play(env: KernelEnv, answers: list[str]) -> tuple[Observation, list[Any]]:
    obs = await env.reset(_relu_task())
    out = []
    for answer in answers:
        tr = await env.step(answer)
        out.append(tr)
        if tr.done:
            break
    return obs, out


def test_env_wrong_then_right_gets_turn_rewards(tmp_path: Path) -> None:
    obs, trs = asyncio.run(_play(_env(tmp_path), [CASES["numerics_off"].answer, GOOD, GOOD]))
    assert "class Model(nn.Module)" in obs.text
    assert "batch_size = 4" in obs.text
    assert [tr.reward for tr in trs] == [pytest.approx(-0.3), 1.0]
    first, second = trs
    assert not first.done
    assert first.info["valid_action"]
    assert not first.info["won"]
    assert "Output mismatch in trial 1" in first.observation.text
    assert IMPROVE in first.observation.text
    assert first.observation.state_key == "turn1/incorrect"
    assert second.terminated
    assert not second.truncated
    assert second.info["won"]
    assert second.info["correct"]
    assert second.info["reward_basis"] == "correctness_only"


def test_env_max_turns_and_final_only_rewards(tmp_path: Path) -> None:
    bad = CASES["numerics_off"].answer
    _, trs = asyncio.run(_play(_env(tmp_path, max_turns=2, turn_rewards=False),
                               [bad, bad, bad]))
    assert len(trs) == 2
    assert trs[-1].terminated
    assert not trs[-1].info["won"]
    assert [tr.reward for tr in trs] == [0.0, pytest.approx(-0.3)]
    assert "No turns left" in trs[-1].observation.text


def test_env_keeps_going_after_correct_when_asked(tmp_path: Path) -> None:
    _, trs = asyncio.run(_play(_env(tmp_path, stop_on_correct=False, max_turns=2),
                               [GOOD, GOOD]))
    assert [tr.done for tr in trs] == [False, True]
    assert all(tr.info["won"] for tr in trs)


def test_env_no_code_is_invalid_and_cheap(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _, trs = asyncio.run(_play(env, ["<action>look</action>"]))
    assert trs[0].info["valid_action"] is False
    assert trs[0].reward == pytest.approx(-0.5)
    assert "no ```python code block" in trs[0].observation.text
    assert env._sandbox.runs == 0


def test_env_options_fail_with_one_line() -> None:
    with pytest.raises(ValueError, match="kernel env option max_turns"):
        KernelEnv(max_turns=0)
    with pytest.raises(ValueError, match="kernel env option bogus"):
        KernelEnv(bogus=1)
    with pytest.raises(ValueError, match="unknown kernel reward"):
        KernelEnv(reward="nope")


def test_env_conforms(tmp_path: Path) -> None:
    report = assert_env_conforms("kernel", max_tasks=2,
                                 options={"runner": InProcessRunner(tmp_path), "trusted": True,
                                          "trials": 2})
    assert any(r.name == "expert solves" and r.status == "pass" for r in report.results)


def test_registered_with_its_own_template() -> None:
    spec = get_host().env("kernel")
    assert resolve_template("auto", spec) is TEMPLATE
    assert TEMPLATE.parse("any text ```python\nx\n```").action.endswith("```")


def test_template_keeps_the_problem_in_view() -> None:
    from turnrl.core.context import Turn

    history = [Turn("PROBLEM", "answer 1"), Turn("feedback 1", "answer 2"),
               Turn("feedback 2", "answer 3")]
    msgs = TEMPLATE.render("", history, Observation("feedback 3"), 1)
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
    assert msgs[0]["content"] == "PROBLEM"
    assert msgs[1]["content"] == "answer 3"
    assert msgs[2]["content"] == "feedback 3"
    full = TEMPLATE.render("", history, Observation("feedback 3"), 3)
    assert [m["content"] for m in full] == ["PROBLEM", "answer 1", "feedback 1", "answer 2",
                                            "feedback 2", "answer 3", "feedback 3"]
    none = TEMPLATE.render("", history, Observation("feedback 3"), 0)
    assert len(none) == 1
    assert none[0]["content"].startswith("PROBLEM")
    assert TEMPLATE.render("", [], Observation("PROBLEM"), 3) == [
        {"role": "user", "content": "PROBLEM"}]


class _CudaRun:
    """A fake sandbox answering as the harness does on CUDA (no GPU needed)."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result

    async def run(self, **kwargs: Any) -> RunOutput:
        import json

        nonce = json.loads(kwargs["stdin"])["nonce"]
        lines = [f'{nonce} {{"stage": "{s}"}}' for s in ("imported", "reference", "compiled",
                                                         "trials")]
        lines.append(nonce + " " + json.dumps({"result": self.result}))
        return RunOutput("ok", 0, "\n".join(lines) + "\n", "", False, 1.0)


def _cuda_result(**extra: Any) -> dict[str, Any]:
    trial = {"index": 0, "ok": True, "max_abs": 0.0, "launches": 1, "kernels": ["k"],
             "other_launches": 0}
    return {"compiled": True, "correct": True, "decoy": False, "findings": [],
            "trials": [trial], "times": {"total_s": 0.5}, "error": None, "error_stage": None,
            **extra}


def test_cuda_results_feed_speedup_coverage_and_reward() -> None:
    fake = _CudaRun(_cuda_result(speedup=2.5, runtime_ms=0.4, ref_runtime_ms=1.0,
                                 coverage=0.9))
    r = evaluate_kernel(RELU, GOOD, device="cuda", sandbox=fake, trials=1, reward="speedup")
    assert (r.speedup, r.runtime_ms, r.ref_runtime_ms, r.coverage) == (2.5, 0.4, 1.0, 0.9)
    assert r.reward == pytest.approx(0.5 + 0.5 * 2.5 + 0.5 * 0.9)
    assert "speedup 2.5x" in r.feedback
    assert "90% of GPU kernel time in your kernels" in r.feedback
    like = evaluate_kernel(RELU, GOOD, device="cuda", sandbox=fake, trials=1)
    assert like.reward == pytest.approx(0.8)  # >= 2x tier


def test_cuda_profiler_decoy_and_failed_timing() -> None:
    decoy = _CudaRun(_cuda_result(speedup=9.0, runtime_ms=0.1, ref_runtime_ms=0.9,
                                  coverage=0.0, decoy=True, findings=[
                                      {"name": "profiler_decoy", "detail": "no own kernel"}]))
    r = evaluate_kernel(RELU, GOOD, device="cuda", sandbox=decoy, trials=1)
    assert r.decoy
    assert "profiler_decoy" in r.hacks
    assert r.reward == -1.0
    failed = _CudaRun(_cuda_result(error="RuntimeError: CUDA error", error_stage="harness"))
    r = evaluate_kernel(RELU, GOOD, device="cuda", sandbox=failed, trials=1)
    assert r.correct
    assert r.speedup is None
    assert r.reward == pytest.approx(-0.1)  # like_kernel: no speed credit, not CPU's 1.0
    assert "Timing failed" in r.feedback
