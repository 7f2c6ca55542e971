"""Werewolf: games per second with the rule-based bots, and a win-rate table of bot line-ups.

    python benchmarks/werewolf.py [--games 200] [--lineup-games 200] [--out DIR]

Speed, side by side on the same seeds with the same bots (every seat a ``basic`` bot except
the floor row):

* ``random legal, bare game``: the rules engine alone (``Game``), uniformly random legal
  replies: the floor of everything below.
* ``bots, bare game``: the bots read each observation's text and decide; the difference to the
  floor is the bots' cost.
* ``bots, WerewolfEnv``: the same through the async multi-agent contract (observations,
  state keys, per-seat rewards in ``info``).
* ``bots, rollout engine``: ``run_groups`` with a ``Seating`` (the village seats are the
  "learner", played by ``scripted:basic`` through the policy interface; the wolves by the
  line-up), one trajectory per village seat, groups split by role: what a training rollout
  costs when the model is free.
* ``bots, TextArena SecretMafia-v0`` (when ``textarena`` is installed): the real game behind
  the adapter, the same bots through the TextArena dialect.

Win rates: the village's win rate for every (village style x wolf style) line-up of the bots
(``basic``, ``bus``, ``quiet``, ``random``) under LSPO's rules, ``--lineup-games`` games each
on the train panel, with a 95% Wilson interval; then five line-ups on TextArena's real game next
to this plugin's ``textarena-exact`` preset (TextArena's rules plus its quirk of losing the
night kill once the Doctor and the Detective are dead) and ``textarena`` preset (the rules
without the quirk). ``--out`` writes ``werewolf.json`` and a
heat map ``werewolf_winrates.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from turnrl.core.host import get_host
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.seating import build_seating
from turnrl.core.types import Observation, Task
from turnrl.inference.scripted import make_scripted_policy
from turnrl.plugins.werewolf.bots import STYLES, WerewolfBot
from turnrl.plugins.werewolf.env import WerewolfEnv
from turnrl.plugins.werewolf.game import Game
from turnrl.plugins.werewolf.rules import make_rules
from turnrl.plugins.werewolf.tasks import make_tasks


def machine() -> str:
    return f"{os.cpu_count()}-core CPU ({platform.processor() or platform.machine()}), no GPU"


# ---------------------------------------------------------------------------- speed
def random_bare(tasks: list[Task]) -> int:
    rules, turns = make_rules(), 0
    for task in tasks:
        game, rng = Game(rules, task.seed), random.Random(task.seed)
        while not game.over:
            game.act(rng.choice(game.legal(game.turn)))
            turns += 1
    return turns


def bots_bare(tasks: list[Task]) -> int:
    rules, turns = make_rules(), 0
    for task in tasks:
        game, bot = Game(rules, task.seed), WerewolfBot(task)
        while not game.over:
            turn = game.turn
            obs = Observation(game.observe(turn.player), actions=tuple(game.legal(turn)),
                              agent=f"player_{turn.player}")
            game.act(bot.act(obs))
            turns += 1
    return turns


async def _bots_env(tasks: list[Task], make_env: Callable[[], Any], dialect: Any = None,
                    village: str = "basic", wolves: str = "basic") -> tuple[int, int]:
    """``(turns, village wins)`` of bot games on ``make_env()`` environments."""
    turns = wins = 0
    for task in tasks:
        env = make_env()
        obs = await env.reset(task)
        teams = {s: t["team"] for s, t in env.seat_tags().items()}
        bots = {"village": WerewolfBot(task, style=village, dialect=dialect),
                "werewolves": WerewolfBot(task, style=wolves, dialect=dialect)}
        while True:
            tr = await env.step(bots[teams[obs.agent]].act(obs))
            turns += 1
            obs = tr.observation
            if tr.done:
                wins += any(teams[w] == "village" for w in tr.info.get("winners", []))
                break
        await env.close()
    return turns, wins


def bots_env(tasks: list[Task]) -> int:
    return asyncio.run(_bots_env(tasks, WerewolfEnv))[0]


def bots_engine(tasks: list[Task]) -> int:
    host = get_host()
    seating = build_seating(["team=village"], ["scripted:basic"], "role", env="werewolf",
                            host=host)
    groups = asyncio.run(run_groups("werewolf", tasks, make_scripted_policy(
        "basic", host=host, env="werewolf"), group_size=1, host=host,
        config=RolloutConfig(seats=seating, max_concurrent_episodes=32)))
    eps = [e for g in groups for e in g.episodes]
    assert all(e.status == "ok" for e in eps), {e.status for e in eps}
    return sum(len(e.steps) for e in eps)  # the village's turns (the wolves' are not kept)


def bots_textarena(tasks: list[Task]) -> int:
    from turnrl.plugins.werewolf.textarena_dialect import TextArenaDialect
    from turnrl.plugins.werewolf.textarena_env import SecretMafiaEnv

    return asyncio.run(_bots_env(tasks, SecretMafiaEnv, TextArenaDialect()))[0]


def has_textarena() -> bool:
    import importlib.util

    return importlib.util.find_spec("textarena") is not None


def speed(n: int) -> list[dict[str, Any]]:
    tasks = make_tasks("train", n=n)
    rows: list[tuple[str, Callable[[list[Task]], int]]] = [
        ("random legal, bare game", random_bare), ("bots, bare game", bots_bare),
        ("bots, WerewolfEnv", bots_env), ("bots, rollout engine", bots_engine)]
    if has_textarena():
        rows.append(("bots, TextArena SecretMafia-v0", bots_textarena))
    out = []
    for name, fn in rows:
        t0 = time.perf_counter()
        turns = fn(tasks)
        dt = time.perf_counter() - t0
        out.append({"loop": name, "games": n, "seconds": dt, "games_per_s": n / dt,
                    "turns": turns, "turns_per_s": turns / dt})
    return out


# ---------------------------------------------------------------------------- win rates
def wilson(wins: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 0.0
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def lineups(n: int) -> list[dict[str, Any]]:
    tasks = make_tasks("train", n=n)
    out = []
    for village in STYLES:
        for wolves in STYLES:
            _, wins = asyncio.run(_bots_env(tasks, WerewolfEnv, None, village, wolves))
            lo, hi = wilson(wins, n)
            out.append({"rules": "lspo", "village": village, "wolves": wolves, "games": n,
                        "village_win_rate": wins / n, "ci95": [lo, hi]})
    return out


def textarena_parity(n: int) -> list[dict[str, Any]]:
    if not has_textarena():
        return []
    from turnrl.plugins.werewolf.textarena_dialect import TextArenaDialect
    from turnrl.plugins.werewolf.textarena_env import SecretMafiaEnv

    tasks = make_tasks("train", n=n)
    out = []
    for village, wolves in (("basic", "basic"), ("basic", "bus"), ("basic", "random"),
                            ("quiet", "basic"), ("random", "random")):
        row: dict[str, Any] = {"village": village, "wolves": wolves, "games": n}
        for name, make, dialect in (
                ("textarena_real", SecretMafiaEnv, TextArenaDialect()),
                ("textarena_exact", lambda: WerewolfEnv(rules="textarena-exact"), None),
                ("textarena_preset", lambda: WerewolfEnv(rules="textarena"), None)):
            _, wins = asyncio.run(_bots_env(tasks, make, dialect, village, wolves))
            row[name] = wins / n
            row[f"{name}_ci95"] = list(wilson(wins, n))
        out.append(row)
    return out


def plot(rows: list[dict[str, Any]], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    grid = [[next(r["village_win_rate"] for r in rows if r["village"] == v
                  and r["wolves"] == w) for w in STYLES] for v in STYLES]
    fig, ax = plt.subplots(figsize=(5, 4))
    im = ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn")
    ax.set_xticks(range(len(STYLES)), STYLES)
    ax.set_yticks(range(len(STYLES)), STYLES)
    ax.set_xlabel("werewolf bots")
    ax.set_ylabel("village bots")
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center")
    ax.set_title(f"village win rate, LSPO rules ({rows[0]['games']} games each)")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--games", type=int, default=200, help="games per speed row")
    parser.add_argument("--lineup-games", type=int, default=200, help="games per line-up")
    parser.add_argument("--parity-games", type=int, default=None,
                        help="games per line-up on TextArena vs the preset (default: half of "
                             "--lineup-games, at least 50)")
    parser.add_argument("--out", default=None, help="write werewolf.json and a heat map here")
    args = parser.parse_args()
    if min(args.games, args.lineup_games, args.parity_games or 1) < 1:
        parser.error("--games, --lineup-games and --parity-games must be >= 1")
    print(f"machine: {machine()}")
    rows = speed(args.games)
    base = next(r for r in rows if r["loop"] == "bots, bare game")
    print(f"\n{'loop':34} {'games/s':>9} {'turns/s':>10} {'vs bots, bare':>14}")
    for r in rows:
        print(f"{r['loop']:34} {r['games_per_s']:9.1f} {r['turns_per_s']:10.0f} "
              f"{r['games_per_s'] / base['games_per_s']:13.2f}x")
    table = lineups(args.lineup_games)
    print(f"\nvillage win rate, LSPO rules, {args.lineup_games} games per line-up "
          f"(rows: village bots, columns: werewolf bots; 95% Wilson interval)")
    print(f"{'':8}" + "".join(f"{w:>20}" for w in STYLES))
    for v in STYLES:
        cells = [next(r for r in table if r["village"] == v and r["wolves"] == w)
                 for w in STYLES]
        print(f"{v:8}" + "".join(f"{c['village_win_rate']:>8.2f} [{max(0, c['ci95'][0]):.2f}, "
                                  f"{min(1, c['ci95'][1]):.2f}]" for c in cells))
    parity = textarena_parity(args.parity_games or max(50, args.lineup_games // 2))
    if parity:
        print(f"\nthe same bots on TextArena's real SecretMafia-v0, on the textarena-exact "
              f"preset (its rules and its lost-night-kill quirk) and on the textarena preset "
              f"({parity[0]['games']} games each): village win rate")
        for r in parity:
            print(f"  village {r['village']:7} wolves {r['wolves']:7} real "
                  f"{r['textarena_real']:.2f}  exact {r['textarena_exact']:.2f}  "
                  f"preset {r['textarena_preset']:.2f}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "werewolf.json").write_text(json.dumps(
            {"machine": machine(), "speed": rows, "lineups": table, "textarena": parity},
            indent=2) + "\n")
        png = plot(table, out / "werewolf_winrates.png")
        print(f"\nwrote {out / 'werewolf.json'}" + (f" and {png}" if png else ""))


if __name__ == "__main__":
    main()
