"""How an environment call's answer crosses the process boundary, one answer at a time.

Pickling the slotted, frozen ``Observation`` / ``Transition`` dataclasses the default way goes
through ``dataclasses.fields()`` for every object, on both sides (~30 us per answer, measured):
at hundreds of environment calls per Ray round trip that is most of the executor's cost. So
they travel as plain tuples (C-speed pickle) and are rebuilt on the driver without re-running
their validation, exactly as default unpickling does: the actor built them through their
constructors, which checked their invariants there. Anything else travels as a pickle of
itself. Each answer is encoded on its own, so one that cannot be pickled fails its own call,
not the batch it travels in.
"""

from __future__ import annotations

import pickle
from dataclasses import fields
from typing import Any

from turnrl.core.types import Observation, Transition

# Rebuilt field by field below: a change of either class's fields must change this module too.
_FIELDS = {Observation: ("text", "state_key", "actions", "agent", "images"),
           Transition: ("observation", "reward", "terminated", "truncated", "info")}
for _cls, _names in _FIELDS.items():
    if tuple(f.name for f in fields(_cls)) != _names:
        raise ImportError(f"turnrl.executors.ray.wire rebuilds {_cls.__name__} from fields "
                          f"{_names}; the class now has {[f.name for f in fields(_cls)]}")

_PROTOCOL = pickle.HIGHEST_PROTOCOL
_OBS, _TRANSITION, _OTHER = 0, 1, 2
_new = object.__new__
_set = object.__setattr__


def _obs_tuple(o: Observation) -> tuple[Any, ...]:
    return (o.text, o.state_key, o.actions, o.agent, o.images)


def encode(value: Any) -> bytes:
    """One answer as bytes (raises whatever pickling raises for an unpicklable value)."""
    kind = type(value)
    if kind is Transition:
        return pickle.dumps((_TRANSITION, _obs_tuple(value.observation), value.reward,
                             value.terminated, value.truncated, value.info), _PROTOCOL)
    if kind is Observation:
        return pickle.dumps((_OBS, _obs_tuple(value)), _PROTOCOL)
    return pickle.dumps((_OTHER, value), _PROTOCOL)


def _observation(values: tuple[Any, ...]) -> Observation:
    obs = _new(Observation)
    text, state_key, actions, agent, images = values
    _set(obs, "text", text)
    _set(obs, "state_key", state_key)
    _set(obs, "actions", actions)
    _set(obs, "agent", agent)
    _set(obs, "images", images)
    return obs


def decode(data: bytes) -> Any:
    message = pickle.loads(data)
    kind = message[0]
    if kind == _TRANSITION:
        tr = _new(Transition)
        _set(tr, "observation", _observation(message[1]))
        _set(tr, "reward", message[2])
        _set(tr, "terminated", message[3])
        _set(tr, "truncated", message[4])
        _set(tr, "info", message[5])
        return tr
    if kind == _OBS:
        return _observation(message[1])
    return message[1]
