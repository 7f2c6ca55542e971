"""benchmarks/trloo_bias.py: on the bandit chain, TRLOO's leave-one-out turn advantages are
unbiased and the self-inclusive (GRPO-style) ones are biased by exactly -A/G.

The closed forms below are derived by hand for the script's default task (pi, mu in
``DEFAULT_TASK``), not read from the script, so a wrong formula there or a wrong estimator in
``turnrl.trainers.advantages.trloo`` fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.benchmarks.script_loader import load_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "trloo_bias.py"

# By hand: m = (0.44, 0.35, 0.32); A[t] = mu[t] - m[t].
TRUE_ADVANTAGE = np.array([[-0.24, 0.36, 0.06], [0.55, -0.25, 0.05], [-0.02, 0.38, -0.32]])
# Var[A_loo | a] averaged over (turn, action) with the policy's weights: sum_t (sum_a pi*mu(1-mu)
# + sum_{s>t} m_s(1-m_s)) = 0.6231 + 0.3526 + 0.168 = 1.1437; sum_t sum_{s>=t} m_s(1-m_s)
# = 0.6915 + 0.4451 + 0.2176 = 1.3542; divided by T = 3 turns.


def hand_mean_variance_loo(g: int) -> float:
    return (1.1437 + 1.3542 / (g - 1)) / 3


@pytest.fixture(scope="module")
def script():  # type: ignore[no-untyped-def]
    return load_script("trloo_bias")


def test_true_advantage_matches_hand_values(script) -> None:  # type: ignore[no-untyped-def]
    np.testing.assert_allclose(script.DEFAULT_TASK.true_advantage(), TRUE_ADVANTAGE, atol=1e-12)


@pytest.mark.parametrize("g", [2, 4, 8])
def test_loo_unbiased_self_inclusive_biased_by_minus_one_over_g(script, g: int) -> None:  # type: ignore[no-untyped-def]
    self_m, loo_m, _ = script.run(script.DEFAULT_TASK, g, groups=8000, seed=0)
    assert abs(loo_m.relative_bias) < 4 * loo_m.relative_bias_se + 1e-3
    assert abs(self_m.relative_bias - (-1 / g)) < 4 * self_m.relative_bias_se + 1e-3
    assert abs(self_m.relative_bias) > 8 * self_m.relative_bias_se  # the bias is really there
    # every row's self-inclusive estimate is (1 - 1/G) times its leave-one-out one
    np.testing.assert_allclose(self_m.cell_means, (1 - 1 / g) * loo_m.cell_means, atol=1e-9)
    # per (turn, action): the leave-one-out mean estimate is the true advantage
    np.testing.assert_allclose(loo_m.cell_means, TRUE_ADVANTAGE, atol=0.06)
    # variances against the hand closed form
    assert loo_m.mean_variance == pytest.approx(hand_mean_variance_loo(g), rel=0.03)
    assert self_m.mean_variance == pytest.approx((1 - 1 / g) ** 2 * hand_mean_variance_loo(g),
                                                 rel=0.03)


def test_closed_form_agrees_with_hand_derivation(script) -> None:  # type: ignore[no-untyped-def]
    task = script.DEFAULT_TASK
    for g in (2, 5, 32):
        cf = script.closed_form(task, g)
        assert cf.relative_bias_self == pytest.approx(-1 / g)
        np.testing.assert_allclose(cf.mean_self, (1 - 1 / g) * TRUE_ADVANTAGE, atol=1e-12)
        assert script.closed_mean_variance(cf.var_loo, task) == pytest.approx(
            hand_mean_variance_loo(g), abs=1e-9)


def test_cli_prints_the_table_and_refuses_bad_sizes() -> None:
    ok = subprocess.run([sys.executable, str(SCRIPT), "--groups", "200", "--sizes", "2", "4"],
                        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "bias LOO" in ok.stdout
    assert "-0.5000" in ok.stdout
    bad = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "1"], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "--sizes" in bad.stderr
