"""WebShop environment speed: expert steps/s, start and reset time, search latency at 2k and
100k generated products.

    python benchmarks/webshop.py                       # full run (the 100k index takes minutes)
    python benchmarks/webshop.py --products 2000 300   # smaller search sizes, quick check

Prints absolute numbers for this machine and ratios measured side by side in one run:
* expert episodes on the ``small`` and ``full`` tiers (steps/s, mean steps, win rate);
* environment start in a fresh process (import + catalog + first reset), with the disk caches
  warm and cold (cold = first use on a machine: BM25 index built, spaCy tags every title);
  reset time within a process;
* search latency p50/p99 over goal instructions at each size, through the saved index (what the
  environment uses) and through ``bm25s.BM25.get_scores`` on the same index (the ratio shows
  the saved-index path costs nothing extra), plus index build time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
START_SNIPPET = """
import asyncio, time
t0 = time.perf_counter()
import turnrl
from turnrl.core.host import get_host
get_host()  # every plugin's registration (numpy, pydantic, ...): not WebShop's own cost
t1 = time.perf_counter()
task = turnrl.tasks("webshop", "test", tier=TIER, n=1)[0]
env = turnrl.make("webshop")
obs = asyncio.run(env.reset(task))
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


async def expert_episodes(tier: str, n: int) -> dict[str, float]:
    import turnrl
    from turnrl.plugins.webshop.expert import WebShopExpert

    tasks = turnrl.tasks("webshop", "train", tier=tier, n=n)
    env = turnrl.make("webshop")
    await env.reset(tasks[0])  # load the catalog, index and nouns outside the timing
    steps = won = 0
    resets: list[float] = []
    t0 = time.perf_counter()
    for task in tasks:
        expert = WebShopExpert(task)
        r0 = time.perf_counter()
        obs = await env.reset(task)
        resets.append(time.perf_counter() - r0)
        while True:
            tr = await env.step(expert.act(obs))
            steps += 1
            obs = tr.observation
            if tr.done:
                won += tr.info["won"]
                break
    wall = time.perf_counter() - t0
    return {"episodes": len(tasks), "steps": steps, "steps_per_s": steps / wall,
            "mean_steps": steps / len(tasks), "win_rate": won / len(tasks),
            "reset_ms_p50": 1000 * statistics.median(resets)}


def process_start(tier: str, cache_dir: str | None) -> tuple[float, float]:
    """(turnrl import + plugin host, WebShop's own start: catalog + env + first reset)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if cache_dir is not None:
        env["TURNRL_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", START_SNIPPET.replace("TIER", repr(tier))],
                         env=env, capture_output=True, text=True, check=True, timeout=600)
    host_s, env_s = out.stdout.strip().splitlines()[-1].split()
    return float(host_s), float(env_s)


def search_latency(n_products: int, n_queries: int) -> dict[str, Any]:
    from turnrl.plugins.webshop.catalog import load_products
    from turnrl.plugins.webshop.generator import generate
    from turnrl.plugins.webshop.search import Analyzer, SavedIndex, SearchEngine

    items, attributes = generate(n_products, seed=0)
    products = load_products(items, attributes)
    queries = [attributes[p["asin"]]["instruction"].lower() for p in products
               if "instruction" in attributes[p["asin"]]][:n_queries]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        built = SearchEngine.build(products, save_dir=Path(tmp))
        build_s = time.perf_counter() - t0
        saved = SearchEngine(products, SavedIndex(Path(tmp)), Analyzer())
        timings: dict[str, list[float]] = {"saved": [], "bm25s": []}
        for engine in (saved, built):  # page the memory-mapped index in
            engine.search(queries[0].split(" "))
        for q in queries:
            for name, engine in (("saved", saved), ("bm25s", built)):
                t = time.perf_counter()
                engine.search(q.split(" "))
                timings[name].append(time.perf_counter() - t)
    pct = {name: (1000 * float(np.percentile(v, 50)), 1000 * float(np.percentile(v, 99)))
           for name, v in timings.items()}
    return {"products": n_products, "queries": len(queries), "index_build_s": build_s,
            "p50_ms": pct["saved"][0], "p99_ms": pct["saved"][1],
            "bm25s_p50_ms": pct["bm25s"][0], "bm25s_p99_ms": pct["bm25s"][1]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=300, help="expert episodes per tier")
    parser.add_argument("--products", type=int, nargs="+", default=[2000, 100_000],
                        help="catalog sizes for the search benchmark")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--tiers", nargs="+", default=["small", "full"])
    parser.add_argument("--no-start", action="store_true", help="skip the process-start runs")
    parser.add_argument("--json", default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"machine": machine(), "expert": {}, "start_s": {}, "search": []}
    print(f"machine: {results['machine']}")
    for tier in args.tiers:
        r = asyncio.run(expert_episodes(tier, args.episodes))
        results["expert"][tier] = r
        print(f"expert {tier}: {r['steps_per_s']:.0f} steps/s ({r['episodes']} episodes, "
              f"{r['mean_steps']:.2f} steps each, win rate {r['win_rate']:.3f}), reset p50 "
              f"{r['reset_ms_p50']:.3f} ms")
    if not args.no_start:
        for tier in args.tiers:
            host, warm = process_start(tier, None)
            with tempfile.TemporaryDirectory() as empty:
                _, cold = process_start(tier, empty)
            results["start_s"][tier] = {"host": host, "warm": warm, "cold": cold}
            print(f"start {tier} in a fresh process: catalog + env + first reset {warm:.3f} s "
                  f"with warm disk caches, {cold:.2f} s cold (index built, spaCy run; "
                  f"cold/warm {cold / warm:.0f}x); importing turnrl + its plugin host before "
                  f"that {host:.2f} s")
    for n in args.products:
        r = search_latency(n, args.queries)
        results["search"].append(r)
        print(f"search {n} products: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms "
              f"(bm25s get_scores path p50 {r['bm25s_p50_ms']:.2f} ms, p99 "
              f"{r['bm25s_p99_ms']:.2f} ms; saved/bm25s p50 "
              f"{r['p50_ms'] / r['bm25s_p50_ms']:.2f}x), index build {r['index_build_s']:.1f} s")
    if len(results["search"]) > 1:
        a, b = results["search"][0], results["search"][-1]
        print(f"search p50 {b['products']} / {a['products']} products: "
              f"{b['p50_ms'] / a['p50_ms']:.1f}x for {b['products'] / a['products']:.0f}x the "
              "products")
    if len(results["expert"]) > 1:
        small, full = results["expert"].get("small"), results["expert"].get("full")
        if small and full:
            print(f"expert steps/s small / full: {small['steps_per_s'] / full['steps_per_s']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
