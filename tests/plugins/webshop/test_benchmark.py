"""benchmarks/webshop.py runs end to end at small sizes and prints the numbers RESULTS quotes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_webshop_benchmark_small(tmp_path: Path) -> None:
    out_json = tmp_path / "r.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "webshop.py"), "--episodes",
                          "20", "--products", "300", "400", "--queries", "20", "--tiers", "small",
                          "--no-start", "--json", str(out_json)],
                         capture_output=True, text=True, timeout=300, check=False, env=env)
    assert out.returncode == 0, out.stderr
    assert "expert small:" in out.stdout
    assert "steps/s" in out.stdout
    assert "search 300 products: p50" in out.stdout
    assert "search p50 400 / 300 products" in out.stdout
    r = json.loads(out_json.read_text())
    assert r["expert"]["small"]["win_rate"] >= 0.9
    assert [s["products"] for s in r["search"]] == [300, 400]
