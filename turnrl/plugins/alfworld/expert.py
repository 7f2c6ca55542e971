"""The gold policy for generated ALFWorld tasks: a privileged planner that replans every step.

``next_command(world)`` looks at the full world state (like alfworld's planner expert, it knows
where every object is) and returns one admissible command that makes progress: put away a
wrong held object, fetch a goal object (opening its receptacle if closed), heat/cool/clean it at
the right appliance, carry it to the goal receptacle; for ``look_at_obj_in_light``, carry the
object to the desk lamp and switch it on. Because it is reactive, it recovers from any state a
random walk leaves behind. ``gold_plan(task)`` rolls it out on a private copy.
"""

from __future__ import annotations

from turnrl.core.types import Observation, Task
from turnrl.plugins.alfworld import text
from turnrl.plugins.alfworld.world import World

_APPLIANCE = {"pick_clean_then_place_in_recep": ("clean", "SinkBasin"),
              "pick_heat_then_place_in_recep": ("heat", "Microwave"),
              "pick_cool_then_place_in_recep": ("cool", "Fridge")}


def _goto_or(w: World, r: str, then: str) -> str:
    return then if w.loc == r else f"go to {w.names[r]}"


def _fetch(w: World, o: str) -> str:
    r = w.inside[o]
    if w.loc != r:
        return f"go to {w.names[r]}"
    if r in w.openable and r not in w.opened:
        return f"open {w.names[r]}"
    return f"take {w.names[o]} from {w.names[r]}"


def _place(w: World, o: str, r: str) -> str:
    if w.loc != r:
        return f"go to {w.names[r]}"
    if r in w.openable and r not in w.opened:
        return f"open {w.names[r]}"
    return text.put_command(w.put_verb, w.names[o], w.names[r])


def _put_away(w: World, o: str) -> str:
    fits = [r for r in w.receptacles if (w.rtype[r], w.otype[o]) in w.can_contain]
    here = w.loc if w.loc in fits else None
    return _place(w, o, here or fits[0])


def _treated(w: World, o: str) -> bool:
    state = {"pick_clean_then_place_in_recep": w.clean, "pick_heat_then_place_in_recep": w.hot,
             "pick_cool_then_place_in_recep": w.cool}.get(w.task_type)
    return state is None or o in state


def next_command(w: World) -> str:
    """One step of the gold policy from ``w``'s current state."""
    g = w.goal
    wanted = [o for o in w.objects if w.otype[o] == g["obj"]]
    held = w.held
    if held is not None and w.otype[held] != g["obj"]:
        return _put_away(w, held)
    if w.task_type == "look_at_obj_in_light":
        if held is None:
            return _fetch(w, next(o for o in wanted if o in w.inside))
        lamp = next(o for o in w.objects if w.otype[o] == g["toggle"])
        return _goto_or(w, w.inside[lamp], f"use {w.names[lamp]}")
    goal_receps = [r for r in w.receptacles if w.rtype[r] == g["recep"]]
    count = {r: sum(w.inside.get(o) == r for o in wanted) for r in goal_receps}
    target = max(goal_receps, key=lambda r: count[r])  # first on ties: sorted order
    if held is None:
        two = w.task_type == "pick_two_obj_and_place"  # the other types may re-fetch from target
        pool = [o for o in wanted if o in w.inside and not (two and w.inside[o] == target)]
        return _fetch(w, pool[0])
    if not _treated(w, held):
        verb, appliance = _APPLIANCE[w.task_type]
        station = next(r for r in w.receptacles if w.rtype[r] == appliance)
        return _goto_or(w, station, f"{verb} {w.names[held]} with {w.names[station]}")
    return _place(w, held, target)


def gold_plan(task: Task, *, put_verb: str = "move", limit: int = 200) -> list[str]:
    """The expert's full command sequence for ``task`` from its start state."""
    w = World(task.data, put_verb=put_verb)
    plan: list[str] = []
    while not w.won():
        if len(plan) >= limit:
            raise RuntimeError(f"alfworld expert found no plan for {task.id} in {limit} steps")
        command = next_command(w)
        plan.append(command)
        if w.apply(command) is None:
            raise RuntimeError(f"alfworld expert chose inadmissible {command!r} on {task.id}")
    return plan


class AlfworldExpert:
    """``Expert`` for one task. Keeps a private copy of the world, advanced with each command it
    returns; call ``observe(action)`` when somebody else acted (DAgger-style mixing), so the
    copy follows the real episode and the next ``act`` replans from there."""

    def __init__(self, task: Task, *, put_verb: str = "move") -> None:
        if "gamefile" in task.data:
            raise ValueError(f"task {task.id} is an official ALFWorld game: the built-in expert "
                             "plans generated tasks only")
        self.task = task
        self.put_verb = put_verb
        self.world = World(task.data, put_verb=put_verb)
        self._pending: str | None = None

    def observe(self, action: str) -> None:
        """Apply an action taken in the real episode to the private copy."""
        if self.world.apply(action.strip()) is None:
            alias = text.canonical_put(action.strip(), self.put_verb)
            if alias:
                self.world.apply(alias)

    def act(self, observation: Observation) -> str:
        if observation.text.startswith(text.WELCOME):
            self.world = World(self.task.data, put_verb=self.put_verb)
            self._pending = None
        if self._pending is not None:
            self.observe(self._pending)
        if observation.state_key is not None and observation.state_key != self.world.state_key():
            raise RuntimeError(
                f"alfworld expert lost track of task {self.task.id}: the episode is at "
                f"{observation.state_key!r}, its copy at {self.world.state_key()!r}; call "
                "expert.observe(action) for actions it did not choose")
        self._pending = next_command(self.world)
        return self._pending
