"""What one RL iteration logs about its episodes: success and reward, failed episodes and
dropped groups (with the audit line saying how a drop biased the batch), and the advantage
audit."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from turnrl.trainers.fsdp import DistInfo, all_reduce_sum


def episode_metrics(groups: list[Any], info: DistInfo) -> dict[str, float]:
    """Success, reward, length and invalid-action rate over every episode played (a failed
    episode counts as not won)."""
    from turnrl.core.rollout_progress import FAILED_STATUSES

    eps = [e for g in groups for e in g.episodes]
    won = sum(e.won and e.status not in FAILED_STATUSES for e in eps)
    totals = torch.tensor([len(eps), won, sum(e.total_reward for e in eps),
                           sum(len(e.steps) for e in eps),
                           sum(not s.valid for e in eps for s in e.steps)], dtype=torch.float64)
    n, won, reward, steps, invalid = all_reduce_sum(totals, info).tolist()
    return {"episodes": n, "success": won / max(n, 1), "reward": reward / max(n, 1),
            "episode_len": steps / max(n, 1), "invalid_frac": invalid / max(steps, 1)}


def failure_metrics(played: list[Any], dropped: list[Any], info: DistInfo
                    ) -> dict[str, float]:
    """``episodes/failed`` and ``groups/dropped`` (summed over ranks), and the dropped share."""
    from turnrl.core.rollout_progress import FAILED_STATUSES

    failed = sum(e.status in FAILED_STATUSES for g in played for e in g.episodes)
    totals = all_reduce_sum(torch.tensor([float(failed), float(len(dropped)),
                                          float(len(played))], dtype=torch.float64), info)
    failed_n, dropped_n, groups_n = totals.tolist()
    return {"episodes/failed": failed_n, "groups/dropped": dropped_n,
            "groups/dropped_frac": dropped_n / max(groups_n, 1.0)}


def dropped_note(it: int, metrics: dict[str, float], dropped: list[Any]) -> str:
    """The audit's line when groups were dropped: the batch is then biased towards the tasks
    that did not fail (e.g. the easy ones, when hard ones time out), so say so, with why."""
    from collections import Counter

    from turnrl.core.rollout_progress import FAILED_STATUSES

    reasons = Counter(f"{e.status}: {e.error}"[:120] for g in dropped for e in g.episodes
                      if e.status in FAILED_STATUSES)
    top = "; ".join(f"{n} x {text}" for text, n in reasons.most_common(2))
    return (f"iter {it}: audit: dropped {metrics['groups/dropped']:.0f} group(s) "
            f"({metrics['groups/dropped_frac']:.0%}) with a failed episode "
            f"({metrics['episodes/failed']:.0f} failed); the update saw only tasks that did not "
            f"fail, so it is biased towards them ({top})")


def audit(batch: Any, adv: np.ndarray) -> dict[str, float]:
    from turnrl.trainers.advantages.audit import audit_advantages

    return audit_advantages(batch, adv) if len(batch) else {}
