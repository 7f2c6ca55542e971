"""gui panels: at least 40 task types, fixed ids and seeds, splits that never share a problem."""

from __future__ import annotations

import pytest

from turnrl.plugins.gui.catalog import PANEL_TYPES, TASK_TYPES
from turnrl.plugins.gui.expert import EXPERT_TYPES
from turnrl.plugins.gui.tasks import SEEDS_PER_TYPE, make_tasks, task_seed


def test_panels_cover_at_least_40_types_and_are_fixed() -> None:
    assert len(PANEL_TYPES) >= 40
    for split, per_type in SEEDS_PER_TYPE.items():
        panel = make_tasks(split)
        assert len(panel) == per_type * len(PANEL_TYPES)
        assert {t.data["type"] for t in panel} == set(PANEL_TYPES)
        assert [t.to_dict() for t in panel] == [t.to_dict() for t in make_tasks(split)]
        assert len({t.id for t in panel}) == len(panel)
        assert all(t.env == "gui" and t.split == split for t in panel)


def test_seeds_are_a_hash_not_a_counter_and_splits_are_disjoint() -> None:
    # pinned: a change here changes every panel on every machine
    assert task_seed("train", "click-button", 0) == 1039953128
    pairs = {split: {(t.data["type"], t.seed) for t in make_tasks(split)}
             for split in SEEDS_PER_TYPE}
    assert not pairs["train"] & pairs["valid"]
    assert not pairs["train"] & pairs["test"]
    assert not pairs["valid"] & pairs["test"]


def test_panels_interleave_types() -> None:
    first = make_tasks("train")[: len(PANEL_TYPES)]
    assert [t.data["type"] for t in first] == list(PANEL_TYPES)


def test_task_options() -> None:
    picked = make_tasks("valid", tasks=["enter-text", "click-button"], seeds=2)
    assert [t.id for t in picked] == [
        "gui-valid-enter-text-000", "gui-valid-click-button-000",
        "gui-valid-enter-text-001", "gui-valid-click-button-001"]
    assert make_tasks("valid", tasks="enter-text, click-button", seeds=2) == picked
    assert len(make_tasks("train", n=7)) == 7


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"tasks": ["click-buton"]}, "no task type 'click-buton'"),
    ({"tasks": []}, "names no task type"),
    ({"seeds": 0}, "seeds must be >= 1"),
])
def test_bad_task_options(kwargs: dict, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        make_tasks("train", **kwargs)
    with pytest.raises(ValueError, match="no split 'dev'"):
        make_tasks("dev")


def test_experts_cover_15_panel_types() -> None:
    assert len(EXPERT_TYPES) >= 15
    assert set(EXPERT_TYPES) <= set(TASK_TYPES)
