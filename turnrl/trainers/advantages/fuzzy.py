"""Fuzzy anchor states for GiGPO: near-identical text states share a step group.

Spec ``advantages.md`` §3 (optional, off by default): inside each ``group_id`` the distinct
states are taken in first-seen order; each joins the first cluster whose *first member* it
matches with similarity >= ``threshold``, else it opens a new cluster (greedy, no chaining
through later members, so the result does not depend on which members happen to be similar to
each other). Similarity is rapidfuzz's normalised InDel similarity, ``fuzz.ratio / 100`` --
``2 * matched characters / total characters``, the measure ``difflib.SequenceMatcher.ratio``
approximates -- computed in C. Useful when the environment's state text carries noise that an
exact ``state_key`` would split (a counter, a timestamp, a reordered list).
"""

from __future__ import annotations

import numpy as np

from turnrl.trainers.advantages.batch import IntArray, StepBatch


def fuzzy_state_codes(batch: StepBatch, threshold: float) -> IntArray:
    """One dense cluster code per row; rows of different groups never share a code."""
    if not 0 < threshold <= 1:
        raise ValueError(f"similarity threshold must be in (0, 1], got {threshold}")
    from rapidfuzz import fuzz

    cutoff = 100.0 * threshold
    labels = [s if isinstance(s, str) else str(s) for s in batch.state_labels]
    cluster_of: dict[tuple[int, int], int] = {}  # (group, state code) -> cluster code
    heads: dict[int, list[tuple[str, int]]] = {}  # group -> [(first member's text, cluster)]
    codes = np.empty(batch.n_rows, dtype=np.int64)
    n_clusters = 0
    for row, (group, state) in enumerate(zip(batch.group.tolist(), batch.state.tolist(),
                                             strict=True)):
        key = (group, state)
        cluster = cluster_of.get(key)
        if cluster is None:
            text = labels[state]
            members = heads.setdefault(group, [])
            cluster = next((c for head, c in members
                            if fuzz.ratio(text, head, score_cutoff=cutoff) >= cutoff), None)
            if cluster is None:
                cluster, n_clusters = n_clusters, n_clusters + 1
                members.append((text, cluster))
            cluster_of[key] = cluster
        codes[row] = cluster
    return codes
