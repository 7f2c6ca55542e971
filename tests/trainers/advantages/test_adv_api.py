"""``StepBatch`` construction and validation, ``compute_advantages`` lookup and parameter
validation, and the built-in plugin's registrations."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from adv_helpers import batch_of, cols_from_trajs

from turnrl.core.host import PluginError, get_host, import_target
from turnrl.core.types import Episode, EpisodeGroup, Observation, Step, Task
from turnrl.trainers.advantages import ConfigError, StepBatch, compute_advantages

NAMES = ("grpo", "rloo", "gigpo", "hgpo", "salt", "trloo")


def test_all_estimators_registered_with_params_and_matching_defaults():
    registry = get_host().advantages
    for name in NAMES:
        component = registry[name]
        assert component.plugin == "advantages"
        model = component.meta["params"]
        fn = component.resolve()
        sig = inspect.signature(fn)
        # the function's keyword defaults are the params model's defaults, name for name
        defaults = {k: p.default for k, p in sig.parameters.items() if k != "batch"}
        assert defaults == model().model_dump(), name


def test_spec_parameter_names_and_defaults():
    registry = get_host().advantages

    def defaults(name):
        return registry[name].meta["params"]().model_dump()

    assert defaults("grpo") == {"norm_by_std": True, "cross_steps": False, "eps": 1e-6,
                                "invalid_penalty": 0.0}
    assert defaults("rloo") == {"cross_steps": False, "invalid_penalty": 0.0}
    assert defaults("gigpo") == {"gamma": 0.95, "mode": "mean_norm", "omega": 1.0, "eps": 1e-6,
                                 "invalid_penalty": 0.1, "similarity": None}  # fuzzy: off
    assert defaults("hgpo") == {"gamma": 0.95, "history_length": 2, "mode": "mean_std_norm",
                                "alpha": 1.0, "base_group": False, "eps": 1e-6,
                                "invalid_penalty": 0.1}
    salt = defaults("salt")
    assert (salt["base"], salt["merge_key"]) == ("grpo", "prefix")
    assert defaults("trloo") == {"gamma": 1.0, "leave_one_out": True}


def test_salt_docstring_says_reconstruction():
    doc = import_target("turnrl.trainers.advantages.salt:__doc__")
    assert "reconstruction" in doc.lower()
    for choice in ("base", "merge_key", "weighting"):
        assert f"``{choice}``" in doc


SMALL = cols_from_trajs([{"id": "a", "states": ["x"], "rewards": [1.0]},
                         {"id": "b", "states": ["x"], "rewards": [0.0]}])


def test_unknown_parameter_is_named_with_valid_ones():
    with pytest.raises(ConfigError, match="unknown parameter\\(s\\) gama; valid parameters: "
                                          "gamma, history_length"):
        compute_advantages("hgpo", batch_of(SMALL), gama=0.9)


def test_bad_parameter_value_is_named():
    with pytest.raises(ConfigError, match="mode='mean'"):
        compute_advantages("gigpo", batch_of(SMALL), mode="mean")
    with pytest.raises(ConfigError, match=r"gamma=1\.5"):
        compute_advantages("trloo", batch_of(SMALL), gamma=1.5)


def test_unknown_estimator_lists_known():
    with pytest.raises(PluginError, match="unknown advantage 'ppo'; known: gigpo, grpo"):
        compute_advantages("ppo", batch_of(SMALL))


def test_output_is_float64_in_row_order():
    adv = compute_advantages("rloo", batch_of(SMALL))
    assert adv.dtype == np.float64
    np.testing.assert_array_equal(adv, [1.0, -1.0])


def test_defaults_valid_and_loss_mask():
    batch = StepBatch(group_id=["g", "g"], traj_id=[1, 2], step=[0, 0], reward=[1, 0],
                      state_key=[("pos", 1), ("pos", 1)], action_key=["a", "b"])
    assert batch.valid.tolist() == [True, True]
    assert batch.loss_mask.tolist() == [1, 1]
    assert batch.state.tolist() == [0, 0]  # tuples are hashable keys, not 2-D arrays


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"reward": [1.0]}, "reward has 1 rows"),
    ({"step": [1, 0]}, "not in time order .*step 1 is followed by step 0"),
    ({"step": [0, 0]}, "not in time order"),
    ({"group_id": ["g", "h"]}, "trajectory 't' appears in more than one group_id"),
    ({"reward": [0.0, float("nan")]}, "reward must be finite; row 1"),
    ({"loss_mask": [1, 2]}, "loss_mask must hold only 0 and 1"),
    ({"step": [-1, 0]}, "step must be >= 0"),
    ({"state_key": [[1], [2]]}, "state_key values must be hashable"),
    ({"valid": [True]}, "valid has"),
])
def test_batch_validation(kwargs, message):
    cols = {"group_id": ["g", "g"], "traj_id": ["t", "t"], "step": [0, 1], "reward": [0.0, 1.0],
            "state_key": ["a", "b"], **kwargs}
    with pytest.raises(ValueError, match=message):
        StepBatch(**cols)


def test_interleaved_rows_and_layout():
    batch = StepBatch(group_id=["g"] * 4, traj_id=["a", "b", "a", "b"], step=[0, 0, 3, 1],
                      reward=[1.0, 2.0, 3.0, 4.0], state_key=[0, 0, 1, 1])
    assert batch.pos.tolist() == [0, 0, 1, 1]
    assert batch.next_row.tolist() == [2, 3, -1, -1]
    np.testing.assert_allclose(batch.episode_reward, [4, 6, 4, 6])
    np.testing.assert_allclose(batch.returns(0.5), [2.5, 4.0, 3.0, 4.0])


def test_empty_batch():
    batch = StepBatch(group_id=[], traj_id=[], step=[], reward=[], state_key=[])
    for name in NAMES:
        assert compute_advantages(name, batch).shape == (0,)


def _episode(eid, rewards, states, actions, task, *, seat="agent", mask=None, valid=None):
    steps = []
    for t, (r, s, a) in enumerate(zip(rewards, states, actions, strict=True)):
        obs = Observation(text=f"you see {s}", state_key=s)
        steps.append(Step(observation=obs, action=a, reward=r,
                          valid=True if valid is None else valid[t],
                          loss_mask=1 if mask is None else mask[t]))
    return Episode(id=eid, group_id="g0", task=task, seat=seat, steps=steps)


def test_from_groups():
    task = Task(env="toy-env", id="t0")
    group = EpisodeGroup(group_id="g0", task=task, episodes=[
        _episode("e1", [0.0, 1.0], ["s0", None], ["Go  North", "TAKE key"], task,
                 valid=[True, False]),
        _episode("e2", [0.5], ["s0"], ["go north"], task, mask=[0]),
    ])
    batch = StepBatch.from_groups([group])
    assert batch.n_rows == 3
    assert batch.traj_labels == ["e1/agent", "e2/agent"]
    assert batch.step.tolist() == [0, 1, 0]
    assert batch.reward.tolist() == [0.0, 1.0, 0.5]
    assert batch.state.tolist() == [0, 1, 0]  # None state_key falls back to observation text
    assert batch.action.tolist() == [0, 1, 0]  # "Go  North" and "go north" normalise equal
    assert batch.valid.tolist() == [True, False, True]
    assert batch.loss_mask.tolist() == [1, 1, 0]
    assert batch.group_labels == ["g0"]
    adv = compute_advantages("grpo", batch)
    np.testing.assert_allclose(adv, np.array([1, 1, -1]) * 0.25 / (np.sqrt(0.125) + 1e-6))


def test_numpy_columns_factorise_in_first_seen_order():
    batch = StepBatch(group_id=np.array(["g", "g", "g"]), traj_id=np.array([7, 5, 7]),
                      step=np.array([0, 0, 1]), reward=np.zeros(3),
                      state_key=np.array([3, 1, 3]), action_key=np.array(["b", "a", "b"]))
    assert batch.state.tolist() == [0, 1, 0]
    assert batch.action.tolist() == [0, 1, 0]
    assert batch.traj_labels == [7, 5]
    assert batch.traj.tolist() == [0, 1, 0]
    # mixed types stay distinct keys (np.asarray would turn 1 and "1" into the same string)
    mixed = StepBatch(group_id=["g", "g"], traj_id=["a", "b"], step=[0, 0], reward=[0, 0],
                      state_key=[1, "1"])
    assert mixed.state.tolist() == [0, 1]
