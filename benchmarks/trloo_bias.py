"""TRLOO's claim, checked where the truth is known: self-inclusive vs leave-one-out baselines.

    python benchmarks/trloo_bias.py [--groups 20000] [--sizes 2 4 8 16 32 64] [--seed 0]

Dr. Kernel argues that a GRPO-style baseline which includes the sample itself (``A = G - mean``
over the group, the sample's own return inside the mean) biases turn-level advantages, and that
TRLOO's leave-one-out baseline (the mean of the *other* trajectories' returns at the same turn)
does not. This script measures both on a synthetic task where the true per-turn advantage is
known in closed form, through the estimator the trainer uses (``compute_advantages("trloo",
..., leave_one_out=True/False)`` on a ``StepBatch``).

The task: a "bandit chain" of ``T`` turns. At turn ``t`` the (fixed) policy picks action ``a``
with probability ``pi[t, a]`` and receives a Bernoulli reward with mean ``mu[t, a]``; turns are
independent and the state is only the turn index, so the true advantage of taking ``a`` at turn
``t`` is ``A[t, a] = mu[t, a] - m[t]`` with ``m[t] = sum_b pi[t, b] mu[t, b]`` (the future
does not depend on ``a`` and cancels). Turn returns are undiscounted, ``G_t = sum_{s >= t} r_s``.

Closed forms (derived in the module ``closed_form``; a group of ``G`` trajectories, all of
length ``T``), conditional on the row's own action ``a`` at turn ``t``:

* leave-one-out: ``E[A_loo | a] = A[t, a]`` (the others' returns are independent of ``a``);
  ``Var[A_loo | a] = s2[t, a] + v[t] / (G - 1)``, where ``s2[t, a] = mu(1 - mu) + sum_{s>t}
  m_s(1 - m_s)`` is the variance of the own return given ``a`` and ``v[t] = sum_{s>=t}
  m_s(1 - m_s)`` that of another trajectory's return (unconditionally each reward is
  Bernoulli(m_s));
* self-inclusive: ``A_self = (1 - 1/G) * A_loo`` exactly (``G_i - mean_all = (1 - 1/G)(G_i -
  mean_others)``), so ``E[A_self | a] = (1 - 1/G) A[t, a]`` -- a bias of ``-A[t, a] / G`` that
  shrinks like 1/G -- and ``Var[A_self | a] = (1 - 1/G)^2 Var[A_loo | a]``.

Printed per group size: the relative bias ``b = E[A_hat * A] / E[A^2] - 1`` (the regression
slope of the estimate on the truth, minus one: closed form ``-1/G`` self-inclusive, ``0``
leave-one-out; standard errors from the spread over independent groups), ``G * b`` (constant
when the bias shrinks like 1/G), and the mean conditional variance with its closed form.

What it means in training: with equal group sizes the self-inclusive estimate is the unbiased
one scaled by ``1 - 1/G`` -- lower variance, and under a std-normalised or Adam-scaled update
close to harmless. It bites when the number of peers differs between turns (trajectories of
different lengths: late turns have few peers, so their advantages shrink more than early ones,
down to 0 for a lone turn) -- which is the multi-turn case TRLOO was written for. (A lone turn
keeps its raw return under TRLOO, spec ``advantages.md`` §6, which is biased by the turn's
value; this check keeps every trajectory at full length so both baselines always have peers.)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np

from turnrl.trainers.advantages import StepBatch, compute_advantages


@dataclass(frozen=True)
class BanditChain:
    """``pi[t, a]``: policy; ``mu[t, a]``: mean Bernoulli reward of action ``a`` at turn ``t``."""

    pi: np.ndarray
    mu: np.ndarray

    @property
    def turns(self) -> int:
        return self.pi.shape[0]

    @property
    def mean_reward(self) -> np.ndarray:
        """``m[t]``: expected reward at turn ``t`` under the policy."""
        return (self.pi * self.mu).sum(axis=1)

    def true_advantage(self) -> np.ndarray:
        """``A[t, a] = mu[t, a] - m[t]``."""
        return self.mu - self.mean_reward[:, None]


DEFAULT_TASK = BanditChain(
    pi=np.array([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.6, 0.2, 0.2]]),
    mu=np.array([[0.2, 0.8, 0.5], [0.9, 0.1, 0.4], [0.3, 0.7, 0.0]]),
)


@dataclass(frozen=True)
class ClosedForm:
    """Per (turn, action): expected estimate and variance of both baselines, group size G."""

    mean_loo: np.ndarray
    mean_self: np.ndarray
    var_loo: np.ndarray
    var_self: np.ndarray
    relative_bias_loo: float
    relative_bias_self: float


def closed_form(task: BanditChain, group_size: int) -> ClosedForm:
    """The formulas of the module docstring (needs ``group_size >= 2``)."""
    if group_size < 2:
        raise ValueError("a baseline needs at least 2 trajectories per group")
    g = group_size
    adv = task.true_advantage()
    m = task.mean_reward
    var_r = m * (1 - m)  # unconditional variance of each turn's reward
    later = np.concatenate([np.cumsum(var_r[::-1])[::-1][1:], [0.0]])  # sum_{s>t} var_r[s]
    v = var_r + later  # Var of another trajectory's return from turn t
    s2 = task.mu * (1 - task.mu) + later[:, None]
    var_loo = s2 + v[:, None] / (g - 1)
    shrink = 1 - 1 / g
    return ClosedForm(mean_loo=adv, mean_self=shrink * adv, var_loo=var_loo,
                      var_self=shrink**2 * var_loo, relative_bias_loo=0.0,
                      relative_bias_self=shrink - 1)


def simulate(task: BanditChain, group_size: int, groups: int, rng: np.random.Generator
             ) -> tuple[StepBatch, np.ndarray, np.ndarray]:
    """``groups`` groups of ``group_size`` full-length trajectories: the batch, and per row its
    turn and action (rows ordered group, trajectory, turn)."""
    n_traj = groups * group_size
    t_count = task.turns
    actions = np.stack([rng.choice(task.pi.shape[1], size=n_traj, p=task.pi[t])
                        for t in range(t_count)], axis=1)  # [traj, turn]
    means = task.mu[np.arange(t_count)[None, :], actions]
    rewards = (rng.random(means.shape) < means).astype(np.float64)
    traj = np.repeat(np.arange(n_traj), t_count)
    turn = np.tile(np.arange(t_count), n_traj)
    batch = StepBatch(group_id=traj // group_size, traj_id=traj, step=turn,
                      reward=rewards.reshape(-1), state_key=turn)
    return batch, turn, actions.reshape(-1)


@dataclass(frozen=True)
class Measured:
    """Monte Carlo estimates for one baseline at one group size."""

    relative_bias: float
    relative_bias_se: float
    mean_variance: float
    cell_means: np.ndarray  # [turn, action] mean estimate


def measure(estimates: np.ndarray, turn: np.ndarray, action: np.ndarray, task: BanditChain,
            groups: int) -> Measured:
    adv = task.true_advantage()
    truth = adv[turn, action]
    denom = float(np.mean(truth**2))
    per_group = (estimates * truth).reshape(groups, -1).mean(axis=1) / denom
    shape = adv.shape
    cell = turn * shape[1] + action
    count = np.bincount(cell, minlength=adv.size)
    total = np.bincount(cell, weights=estimates, minlength=adv.size)
    squares = np.bincount(cell, weights=estimates**2, minlength=adv.size)
    mean = total / np.maximum(count, 1)
    var = squares / np.maximum(count, 1) - mean**2
    var = var * count / np.maximum(count - 1, 1)  # unbiased within each cell
    return Measured(relative_bias=float(per_group.mean() - 1),
                    relative_bias_se=float(per_group.std(ddof=1) / np.sqrt(groups)),
                    mean_variance=float(np.sum(var * count) / count.sum()),
                    cell_means=mean.reshape(shape))


def run(task: BanditChain, group_size: int, groups: int, seed: int
        ) -> tuple[Measured, Measured, ClosedForm]:
    """Simulate once, estimate with both baselines on the same returns."""
    rng = np.random.default_rng([seed, group_size])
    batch, turn, action = simulate(task, group_size, groups, rng)
    loo = compute_advantages("trloo", batch, gamma=1.0, leave_one_out=True)
    self_inc = compute_advantages("trloo", batch, gamma=1.0, leave_one_out=False)
    return (measure(self_inc, turn, action, task, groups),
            measure(loo, turn, action, task, groups), closed_form(task, group_size))


def closed_mean_variance(var: np.ndarray, task: BanditChain) -> float:
    """The probability-weighted mean of per-cell variances (what ``measure`` averages)."""
    return float((task.pi * var).sum() / task.turns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=20000, help="groups per group size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64],
                        help="group sizes G (each >= 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.groups < 2 or any(g < 2 for g in args.sizes):
        print("trloo_bias: --groups and every --sizes value must be >= 2", file=sys.stderr)
        return 2
    from rich.console import Console
    from rich.table import Table

    task = DEFAULT_TASK
    table = Table(title=f"Turn-level advantages vs the true advantage ({task.turns}-turn "
                        f"bandit chain, {args.groups} groups per G, seed {args.seed})")
    for col in ("G", "bias self-incl.", "closed -1/G", "G x bias", "bias LOO (TRLOO)",
                "closed", "var self", "closed", "var LOO", "closed"):
        table.add_column(col, justify="right")
    for g in args.sizes:
        self_m, loo_m, cf = run(task, g, args.groups, args.seed)
        table.add_row(
            str(g), f"{self_m.relative_bias:+.4f} ± {self_m.relative_bias_se:.4f}",
            f"{cf.relative_bias_self:+.4f}", f"{g * self_m.relative_bias:+.3f}",
            f"{loo_m.relative_bias:+.4f} ± {loo_m.relative_bias_se:.4f}", "+0.0000",
            f"{self_m.mean_variance:.4f}", f"{closed_mean_variance(cf.var_self, task):.4f}",
            f"{loo_m.mean_variance:.4f}", f"{closed_mean_variance(cf.var_loo, task):.4f}")
    console = Console(width=160)
    console.print(table)
    console.print("bias = E[A_hat * A] / E[A^2] - 1 (slope of the estimate on the true "
                  "advantage, minus 1); ± one standard error over groups. var = mean "
                  "conditional variance given the row's own turn and action.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
