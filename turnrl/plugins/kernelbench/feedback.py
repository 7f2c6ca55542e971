"""The text the model reads about its last kernel (KernelGYM's "server feedback").

Written from the evaluation, never from guesses: what stage failed and its last error lines,
which trial failed and by how much, how many of the answer's Triton kernels ran, the findings
with their lines, the speed when it was measured (and that it was not, on CPU), the reward.
"""

from __future__ import annotations

from typing import Any

from turnrl.plugins.kernelbench.static import Finding

MAX_ERROR_LINES = 12


def _tail(text: str | None, lines: int = MAX_ERROR_LINES) -> str:
    if not text:
        return ""
    kept = text.strip().splitlines()[-lines:]
    return "\n".join("    " + ln for ln in kept)


def _num(x: Any) -> str:
    """A verdict's number as the model should read it; a complex value arrives from the
    harness as a ``[real, imag]`` pair (JSON has no complex) and reads ``1-5j``."""
    if isinstance(x, list) and len(x) == 2:
        real, imag = (_num(part) for part in x)
        return f"{real}{imag if imag.startswith('-') else '+' + imag}j"
    return f"{x:.3g}" if isinstance(x, float) else str(x)


def status_line(stage: str, harness: dict[str, Any] | None, run_status: str | None,
                last_stage: str | None, timeout_s: float) -> str:
    """One or more lines on how far the program got and why it stopped."""
    if run_status == "timeout":
        where = {"imported": "while loading the problem", "reference": "while importing or "
                 "constructing ModelNew", "compiled": "in the first trial",
                 "trial": "in a trial", "trials": "while timing"}.get(last_stage or "",
                                                                      "while starting")
        return f"Timed out after {timeout_s:g} s {where}: a kernel or loop did not finish."
    if harness is None:
        return ("The evaluation program did not report a result "
                f"(sandbox status: {run_status or 'unknown'}).")
    err = harness.get("error")
    if stage == "compile":
        return "Compilation failed: importing or constructing ModelNew raised:\n" + _tail(err)
    if stage == "reference":
        return "The reference model itself failed (a problem with the task, not your code):\n" \
            + _tail(err)
    return ""


def trials_text(harness: dict[str, Any], n_trials: int) -> str:
    trials = harness.get("trials") or []
    if harness.get("correct"):
        worst = max((t.get("max_abs", 0.0) for t in trials), default=0.0)
        return f"Correct on all {n_trials} trials (largest absolute difference {_num(worst)})."
    bad = next((t for t in trials if not t.get("ok", False)), None)
    if bad is None:
        return "Not correct."
    which = f"trial {bad['index'] + 1} of {n_trials}"
    why = bad.get("why")
    if why == "error":
        return f"Runtime error in {which}:\n" + _tail(bad.get("error"))
    if why in ("type", "arity"):
        return f"Wrong output in {which}: {bad.get('error')}"
    if why == "shape":
        return (f"Wrong output shape in {which}: got {tuple(bad['got_shape'])}, expected "
                f"{tuple(bad['expected_shape'])}.")
    if why == "dtype":
        return (f"Wrong output dtype in {which}: got {bad['got_dtype']}, expected "
                f"{bad['expected_dtype']}.")
    return (f"Output mismatch in {which}: {bad.get('mismatched')} of {bad.get('total')} values "
            f"differ beyond the tolerance; largest absolute difference "
            f"{_num(bad.get('max_abs'))}, relative {_num(bad.get('max_rel'))}; first at index "
            f"{tuple(bad.get('first_index') or ())}: expected {_num(bad.get('expected'))}, got "
            f"{_num(bad.get('got'))}.")


def launches_text(harness: dict[str, Any], decoy: bool) -> str:
    trials = [t for t in harness.get("trials") or [] if "launches" in t]
    if not trials:
        return ""
    names = sorted({k for t in trials for k in t.get("kernels", [])})
    per = trials[0]["launches"]
    if decoy:
        return ("Decoy: no Triton kernel of yours ran during forward in at least one trial "
                "(the result came from PyTorch or a cache).")
    return f"Your Triton kernels launched per forward: {per} ({', '.join(names)})."


def findings_text(findings: list[Finding]) -> str:
    if not findings:
        return ""
    lines = []
    for f in findings:
        where = f" (line {f.line})" if f.line else ""
        tag = "" if f.severity == "hack" else " [warning]"
        lines.append(f"  - {f.name}{where}{tag}: {f.detail}")
    return "Findings (hacks are penalised):\n" + "\n".join(lines)


def speed_text(harness: dict[str, Any] | None, device: str) -> str:
    if device == "cpu":
        return ("Speed: not measured (CPU, Triton interpreter); the reward counts correctness "
                "only.")
    if not harness or harness.get("runtime_ms") is None:
        return "Speed: not measured (only correct kernels are timed)."
    text = (f"Speed: {harness['runtime_ms']:.4g} ms vs reference {harness['ref_runtime_ms']:.4g}"
            f" ms (speedup {harness['speedup']:.3g}x)")
    if harness.get("coverage") is not None:
        text += f"; {100 * harness['coverage']:.0f}% of GPU kernel time in your kernels"
    return text + "."
