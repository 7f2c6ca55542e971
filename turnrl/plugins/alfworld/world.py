"""The ALFRED PDDL domain as plain Python: state, applicable actions, effects, goal test.

``World`` follows alfworld's ``alfred.pddl`` action by action (preconditions and effects) and
renders commands and feedback through ``text`` the way the real engine's grammar does. Quirks of
the real engine are reproduced on purpose (each one was observed against it):

* ``examine <object>`` is only admissible for the held object (the planner never grounds the
  in-receptacle branch of ``examineObject``'s disjunctive precondition);
* ``use <lamp>`` always answers ``You turn on ...`` (``isToggled`` is never cleared);
* a receptacle object (mug, bowl...) examines as ``This is a normal ...`` whatever its state;
* ``slice`` needs only the target's ``objectAtLocation``, so it reaches into closed receptacles;
* ``look`` at the start location sees nothing, ``go to`` never lists the current receptacle.

Lists (room contents, receptacle contents) follow the lower-cased PDDL id order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from turnrl.plugins.alfworld import text
from turnrl.plugins.alfworld.catalog import KNIVES

Rule = tuple[Callable[..., str], tuple[str, ...]]


class World:
    """One episode's mutable state plus the rules that change it."""

    def __init__(self, data: dict[str, Any], *, put_verb: str = "move") -> None:
        if put_verb not in text.PUT_VERBS:
            raise ValueError(f"alfworld put_verb must be one of {text.PUT_VERBS}, got {put_verb!r}")
        self.put_verb = put_verb
        self.data = data
        recs, objs = data["receptacles"], data["objects"]
        self.names = text.demangle([r["id"] for r in recs] + [o["id"] for o in objs])
        self.rtype = {r["id"].lower(): r["type"] for r in recs}
        self.openable = {r["id"].lower() for r in recs if r["openable"]}
        self.otype = {o["id"].lower(): o["type"] for o in objs}
        self.flags = {o["id"].lower(): frozenset(o["flags"]) for o in objs}
        self.can_contain = {(r, o) for r, o in data["can_contain"]}
        self.receptacles = sorted(self.rtype)
        self.objects = sorted(self.otype)
        self.goal = data["goal"]
        self.task_type = data["type"]
        self.loc: str | None = None  # None: the start location, where no receptacle stands
        self.opened: set[str] = set()
        self.inside: dict[str, str] = {o["id"].lower(): o["in"].lower() for o in objs}
        self.held: str | None = None
        self.hot: set[str] = set()
        self.cool: set[str] = set()
        self.clean: set[str] = set()
        self.toggled: set[str] = set()
        self.sliced: set[str] = set()
        self._commands: dict[str, Rule] | None = None

    # ------------------------------------------------------------------ text
    def intro(self) -> str:
        return text.intro([self.names[r] for r in self.receptacles], self.data["task_desc"])

    def contents(self, r: str) -> list[str]:
        return [o for o in self.objects if self.inside.get(o) == r]

    def examine_receptacle(self, r: str) -> str:
        name = self.names[r]
        seen = text.listing(self.names[o] for o in self.contents(r))
        if r in self.openable:
            return f"The {name} is open. In it, you see {seen}." if r in self.opened \
                else f"The {name} is closed."
        return f"On the {name}, you see {seen}."

    def examine_object(self, o: str) -> str:
        name, flags = self.names[o], self.flags[o]
        hot, cool, clean, sliced = (o in self.hot, o in self.cool, o in self.clean,
                                    o in self.sliced)
        if "isReceptacleObject" in flags:
            return f"This is a normal {name}. In it, you see nothing."
        for cond, line in ((clean and hot and sliced, "This is a hot and clean sliced {}."),
                           (clean and cool and sliced, "This is a cool and clean sliced {}."),
                           (clean and sliced, "This is a clean sliced {}."),
                           (hot and sliced, "This is a hot sliced {}."),
                           (cool and sliced, "This is a cool sliced {}."),
                           (clean and hot, "This is a hot and clean {}."),
                           (clean and cool, "This is a cool and clean {}."),
                           (hot, "This is a hot {}."), (clean, "This is a clean {}."),
                           (cool, "This is a cold {}.")):
            if cond:
                return line.format(name)
        if "toggleable" in flags:
            return f"This {name} is {'on' if o in self.toggled else 'off'}."
        if "sliceable" in flags and sliced:
            return f"This is a sliced {name}."
        return f"There's nothing special about {name}."

    def look(self) -> str:
        if self.loc is None:
            return "You are in the middle of a room. Looking quickly around you, you see nothing."
        return f"You are facing the {self.names[self.loc]}. Next to it, you see nothing."

    def inventory(self) -> str:
        if self.held is None:
            return "You are not carrying anything."
        return f"You are carrying: a {self.names[self.held]}."

    # ------------------------------------------------------------------ rules
    def _rules(self) -> dict[str, Rule]:
        """The admissible commands' rules, grounded once per state (``_changed`` clears them)."""
        if self._commands is None:
            self._commands = self._ground()
        return self._commands

    def admissible(self) -> list[str]:
        return sorted(self._rules())

    def apply(self, command: str) -> str | None:
        """Run an admissible ``command`` and return its feedback; None if it is not admissible."""
        rule = self._rules().get(command)
        return None if rule is None else rule[0](self, *rule[1])

    def _ground(self) -> dict[str, Rule]:
        """Admissible command -> (unbound method, arguments). Unbound on purpose: a table of
        closures over ``self`` would make every world a reference cycle, left for the garbage
        collector at the end of each episode instead of being freed at once."""
        n = self.names
        cmds: dict[str, Rule] = {"look": (World.look, ()), "inventory": (World.inventory, ()),
                                 "help": (World._help, ())}
        for r in self.receptacles:
            if r != self.loc:
                cmds[f"go to {n[r]}"] = (World._goto, (r,))
        r = self.loc
        held = self.held
        if held is not None:
            cmds[f"examine {n[held]}"] = (World.examine_object, (held,))
        if r is None:
            return cmds
        cmds[f"examine {n[r]}"] = (World.examine_receptacle, (r,))
        if r in self.openable:
            if r in self.opened:
                cmds[f"close {n[r]}"] = (World._close, (r,))
            else:
                cmds[f"open {n[r]}"] = (World._open, (r,))
        reachable = r not in self.openable or r in self.opened
        for o in self.contents(r):
            if "toggleable" in self.flags[o]:
                cmds[f"use {n[o]}"] = (World._toggle, (o,))
            if held is None and reachable and "pickupable" in self.flags[o]:
                cmds[f"take {n[o]} from {n[r]}"] = (World._take, (o, r))
        if held is not None and self.otype[held] in KNIVES:
            # SliceObject needs objectAtLocation only: closed receptacles do not hide the target
            for co in self.contents(r):
                if "sliceable" in self.flags[co]:
                    cmds[f"slice {n[co]} with {n[held]}"] = (World._slice, (co, held))
        if held is not None:
            rtype, flags = self.rtype[r], self.flags[held]
            if reachable and (rtype, self.otype[held]) in self.can_contain:
                cmds[text.put_command(self.put_verb, n[held], n[r])] = (World._put, (held, r))
            for verb, appliance, flag in (("heat", "Microwave", "heatable"),
                                          ("cool", "Fridge", "coolable"),
                                          ("clean", "SinkBasin", "cleanable")):
                if rtype == appliance and flag in flags:
                    cmds[f"{verb} {n[held]} with {n[r]}"] = (World._treat, (verb, held, r))
        return cmds

    def _help(self) -> str:
        return text.HELP_TEXT

    def _changed(self) -> None:
        self._commands = None

    def _goto(self, r: str) -> str:
        self.loc = r
        self._changed()
        return f"You arrive at {self.names[r]}. {self.examine_receptacle(r)}"

    def _open(self, r: str) -> str:
        self.opened.add(r)
        self._changed()
        return f"You open the {self.names[r]}. {self.examine_receptacle(r)}"

    def _close(self, r: str) -> str:
        self.opened.discard(r)
        self._changed()
        return f"You close the {self.names[r]}."

    def _take(self, o: str, r: str) -> str:
        del self.inside[o]
        self.held = o
        self._changed()
        return f"You pick up the {self.names[o]} from the {self.names[r]}."

    def _put(self, o: str, r: str) -> str:
        self.inside[o] = r
        self.held = None
        self._changed()
        return text.put_feedback(self.put_verb, self.names[o], self.names[r])

    def _treat(self, verb: str, o: str, r: str) -> str:
        if verb == "heat":
            self.hot.add(o)
            self.cool.discard(o)
        elif verb == "cool":
            self.cool.add(o)
            self.hot.discard(o)
        else:
            self.clean.add(o)
        self._changed()
        return f"You {verb} the {self.names[o]} using the {self.names[r]}."

    def _slice(self, co: str, knife: str) -> str:
        self.sliced.add(co)
        self._changed()
        return f"You sliced the {self.names[co]} with the {self.names[knife]}."

    def _toggle(self, o: str) -> str:
        self.toggled.add(o)
        self._changed()
        return f"You turn on the {self.names[o]}."

    # ------------------------------------------------------------------ goal
    def won(self) -> bool:
        g, kind = self.goal, self.task_type
        if kind == "look_at_obj_in_light":
            lamp_here = any(self.otype[o] == g["toggle"] and o in self.toggled
                            and self.inside.get(o) == self.loc for o in self.objects)
            return lamp_here and self.held is not None and self.otype[self.held] == g["obj"]
        placed = [o for o in self.objects if self.otype[o] == g["obj"] and o in self.inside
                  and self.rtype[self.inside[o]] == g["recep"]]
        if kind == "pick_two_obj_and_place":
            per_recep = [self.inside[o] for o in placed]
            return any(per_recep.count(r) >= 2 for r in per_recep)
        need = {"pick_clean_then_place_in_recep": self.clean,
                "pick_heat_then_place_in_recep": self.hot,
                "pick_cool_then_place_in_recep": self.cool}.get(kind)
        return any(need is None or o in need for o in placed)

    def state_key(self) -> str:
        """Where the agent is and what it can see there (no history)."""
        n = self.names
        parts = [f"at={n[self.loc] if self.loc else 'start'}"]
        if self.loc is not None:
            r = self.loc
            if r in self.openable:
                parts.append("open" if r in self.opened else "closed")
            if r not in self.openable or r in self.opened:
                parts.append("sees=" + ",".join(n[o] for o in self.contents(r)))
        if self.held is not None:
            o = self.held
            marks = [m for m, s in (("hot", self.hot), ("cool", self.cool), ("clean", self.clean),
                                    ("sliced", self.sliced)) if o in s]
            parts.append(f"holds={n[o]}" + (f"[{','.join(marks)}]" if marks else ""))
        return ";".join(parts)
