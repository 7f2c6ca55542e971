"""``StepBatch``: the estimators' input, one row per step of one trajectory.

Every key column (group, trajectory, state, action) is factorised to dense int codes once, here,
so estimators only ever run ``np.bincount`` / ``np.unique`` over int arrays and never hash a
Python object in their hot path. The trajectory layout (position of each row inside its
trajectory, next/previous row, rows grouped by depth) is derived once as well: returns are then a
reverse scan over depth, vectorised across all trajectories at once (a loop over the longest
trajectory's length, never over rows).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from turnrl.core.types import EpisodeGroup

IntArray = np.ndarray
FloatArray = np.ndarray


def factorize(values: Sequence[Hashable] | np.ndarray, what: str) -> tuple[IntArray, list[Any]]:
    """Map hashables to dense int codes in first-seen order; return (codes, labels).

    A numeric / string numpy array goes through ``np.unique``; anything else through one dict
    pass (so ``[1, "1"]`` stay two keys, which ``np.asarray`` would silently merge).
    """
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "biufUS":
        labels, first, codes = np.unique(values, return_index=True, return_inverse=True)
        # renumber in first-seen order so codes do not depend on the label sort order
        rank = np.empty(len(labels), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(labels))
        ordered = [labels[i].item() for i in np.argsort(first, kind="stable")]
        return rank[codes.reshape(-1)], ordered
    try:
        labels_in_order = list(dict.fromkeys(values))  # C-speed passes, no per-row bytecode
    except TypeError as exc:
        raise ValueError(f"StepBatch.{what} values must be hashable: {exc}") from None
    index = {v: i for i, v in enumerate(labels_in_order)}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, labels_in_order


def combine_codes(a: IntArray, b: IntArray) -> IntArray:
    """Dense codes of the pairs ``(a[i], b[i])`` (both non-negative int arrays)."""
    if len(a) == 0:
        return np.zeros(0, dtype=np.int64)
    key = a.astype(np.int64) * (int(b.max()) + 1) + b
    return np.unique(key, return_inverse=True)[1].reshape(-1)


def normalise_action(text: str) -> str:
    """Action text as SALT compares it: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


def _column(values: Iterable[Any] | None, n: int, name: str, default: Any) -> np.ndarray:
    if values is None:
        return np.full(n, default)
    arr = np.asarray(values)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"StepBatch.{name} has {arr.shape} entries, group_id has {n} rows")
    return arr


class StepBatch:
    """One row per step; see the spec (``advantages.md`` §0) for the meaning of each column.

    Columns are stored as read-only numpy arrays: ``group``, ``traj``, ``state`` and ``action``
    are int codes (labels in ``group_labels`` / ``traj_labels`` / ``state_labels``); ``step``
    int64, ``reward`` float64, ``valid`` bool, ``loss_mask`` int8. Rows of one trajectory need
    not be contiguous, but must appear in time order (strictly increasing ``step``).
    """

    def __init__(self, group_id: Sequence[Hashable], traj_id: Sequence[Hashable],
                 step: Sequence[int], reward: Sequence[float],
                 state_key: Sequence[Hashable], action_key: Sequence[Hashable] | None = None,
                 valid: Sequence[bool] | None = None,
                 loss_mask: Sequence[int] | None = None) -> None:
        n = len(group_id)
        for name, col in (("traj_id", traj_id), ("step", step), ("reward", reward),
                          ("state_key", state_key)):
            if len(col) != n:
                raise ValueError(f"StepBatch.{name} has {len(col)} rows, group_id has {n}")
        if action_key is not None and len(action_key) != n:
            raise ValueError(f"StepBatch.action_key has {len(action_key)} rows, group_id has {n}")
        self.n_rows = n
        self.group, self.group_labels = factorize(group_id, "group_id")
        self.traj, self.traj_labels = factorize(traj_id, "traj_id")
        self.state, self.state_labels = factorize(state_key, "state_key")
        self.action = (factorize(action_key, "action_key")[0] if action_key is not None
                       else np.zeros(n, dtype=np.int64))
        self.step = self._int_column(step, "step")
        self.reward = np.asarray(reward, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(self.reward)):
            bad = int(np.flatnonzero(~np.isfinite(self.reward))[0])
            raise ValueError(f"StepBatch.reward must be finite; row {bad} is {self.reward[bad]}")
        self.valid = _column(valid, n, "valid", True).astype(bool)
        mask = _column(loss_mask, n, "loss_mask", 1)
        if not np.all((mask == 0) | (mask == 1)):
            raise ValueError("StepBatch.loss_mask must hold only 0 and 1")
        self.loss_mask = mask.astype(np.int8)
        self.n_groups = len(self.group_labels)
        self.n_traj = len(self.traj_labels)
        self._layout()
        for arr in (self.group, self.traj, self.state, self.action, self.step, self.reward,
                    self.valid, self.loss_mask):
            arr.setflags(write=False)

    @staticmethod
    def _int_column(values: Sequence[int], name: str) -> IntArray:
        arr = np.asarray(values)
        if arr.ndim != 1 or (len(arr) and arr.dtype.kind not in "iu"):
            raise ValueError(f"StepBatch.{name} must be a flat sequence of ints")
        arr = arr.astype(np.int64)
        if len(arr) and arr.min() < 0:
            raise ValueError(f"StepBatch.{name} must be >= 0, got {int(arr.min())}")
        return arr

    def _layout(self) -> None:
        """Derive positions and neighbours; check one group per trajectory and time order."""
        n = self.n_rows
        self.traj_group = np.zeros(self.n_traj, dtype=np.int64)
        self.traj_group[self.traj] = self.group
        mixed = self.traj_group[self.traj] != self.group
        if mixed.any():
            row = int(np.flatnonzero(mixed)[0])
            raise ValueError(
                f"StepBatch: trajectory {self.traj_labels[self.traj[row]]!r} appears in more "
                "than one group_id; a trajectory belongs to exactly one group")
        order = np.argsort(self.traj, kind="stable")  # rows of a trajectory, in row order
        t_sorted = self.traj[order]
        s_sorted = self.step[order]
        same = t_sorted[1:] == t_sorted[:-1]
        backwards = same & (s_sorted[1:] <= s_sorted[:-1])
        if backwards.any():
            i = int(np.flatnonzero(backwards)[0])
            raise ValueError(
                f"StepBatch: rows of trajectory {self.traj_labels[t_sorted[i]]!r} are not in "
                f"time order (step {int(s_sorted[i])} is followed by step "
                f"{int(s_sorted[i + 1])}); steps must strictly increase")
        self.traj_len = np.bincount(self.traj, minlength=self.n_traj)
        starts = (np.cumsum(self.traj_len) - self.traj_len).astype(np.int64)
        pos = np.empty(n, dtype=np.int64)
        pos[order] = np.arange(n) - np.repeat(starts, self.traj_len)
        self.pos = pos
        self.next_row = np.full(n, -1, dtype=np.int64)
        self.prev_row = np.full(n, -1, dtype=np.int64)
        self.next_row[order[:-1][same]] = order[1:][same]
        self.prev_row[order[1:][same]] = order[:-1][same]
        self.first_row = order[starts] if n else np.zeros(0, dtype=np.int64)
        """Row index of each trajectory's first step."""
        self.max_len = int(self.traj_len.max()) if n else 0
        for arr in (self.traj_group, self.traj_len, self.pos, self.next_row, self.prev_row,
                    self.first_row):
            arr.setflags(write=False)

    # ------------------------------------------------------------------ derived quantities
    @cached_property
    def rows_by_pos(self) -> list[IntArray]:
        """``rows_by_pos[t]``: the rows that are step number t of their trajectory."""
        by = np.argsort(self.pos, kind="stable")
        counts = np.bincount(self.pos, minlength=self.max_len)
        return np.split(by, np.cumsum(counts)[:-1]) if self.n_rows else []

    @cached_property
    def episode_reward(self) -> FloatArray:
        """Per row: the sum of ``reward`` over the row's trajectory."""
        per_traj = np.bincount(self.traj, weights=self.reward, minlength=self.n_traj)
        return per_traj[self.traj]

    def returns(self, gamma: float, rewards: FloatArray | None = None) -> FloatArray:
        """Discounted step returns ``R_t = r_t + gamma * R_{t+1}`` (0 after the last step)."""
        out = np.array(self.reward if rewards is None else rewards, dtype=np.float64)
        for rows in reversed(self.rows_by_pos[:-1]):
            nxt = self.next_row[rows]
            has = nxt >= 0
            out[rows[has]] += gamma * out[nxt[has]]
        return out

    def penalty(self, coef: float) -> FloatArray:
        """Invalid-action penalty per row: ``coef * (1 - valid)``."""
        return coef * (~self.valid).astype(np.float64)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_groups(cls, groups: Iterable[EpisodeGroup]) -> StepBatch:
        """One row per step of every episode of every group.

        ``traj_id`` is ``"<episode id>/<seat>"``; ``state_key`` is the step's ``state_key``,
        else its observation's, else the observation text (an exact-text fingerprint, so
        GiGPO / HGPO still match identical observations); ``action_key`` is the normalised
        action text. Masking errored episodes is the rollout engine's job (``loss_mask``).
        """
        cols: dict[str, list[Any]] = {k: [] for k in (
            "group_id", "traj_id", "step", "reward", "state_key", "action_key", "valid",
            "loss_mask")}
        for group in groups:
            for ep in group.episodes:
                traj = f"{ep.id}/{ep.seat}"
                for t, s in enumerate(ep.steps):
                    key = s.state_key or s.observation.state_key or s.observation.text
                    cols["group_id"].append(group.group_id)
                    cols["traj_id"].append(traj)
                    cols["step"].append(t)
                    cols["reward"].append(s.reward)
                    cols["state_key"].append(key)
                    cols["action_key"].append(normalise_action(s.action))
                    cols["valid"].append(bool(s.valid))
                    cols["loss_mask"].append(int(s.loss_mask))
        if not cols["step"]:
            cols["step"] = np.zeros(0, dtype=np.int64)  # type: ignore[assignment]
        return cls(**cols)

    def __len__(self) -> int:
        return self.n_rows

    def __repr__(self) -> str:
        return (f"StepBatch(rows={self.n_rows}, groups={self.n_groups}, "
                f"trajectories={self.n_traj}, max_len={self.max_len})")
