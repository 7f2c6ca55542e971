"""Problems: the shipped set at either input scale, and a loader for a user's KernelBench checkout.

A problem is KernelBench's format, a Python source defining ``Model(nn.Module)``,
``get_inputs()`` and ``get_init_inputs()``. Scales are produced by rewriting the module-level
size constants (``batch_size = 4096`` -> ``batch_size = 4``), so the text the model reads, the
reference and the expert all agree, and the rendered file is still a plain KernelBench problem.

A KernelBench checkout (``source: kernelbench``) is read as-is from ``PATH/levelN/*.py`` or
``PATH/KernelBench/levelN/*.py``; its files keep KernelBench's own sizes (its problems have one
scale) and have no expert. Splits there are a stable hash of the file name (80/10/10), so the
same checkout gives the same panels on every machine.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from turnrl.plugins.kernelbench.catalog import BY_ID, SHIPPED, Entry

SCALES: tuple[str, ...] = ("cpu", "gpu")
REQUIRED_NAMES: tuple[str, ...] = ("Model", "get_inputs", "get_init_inputs")


class ProblemError(ValueError):
    """A problem file or option is unusable; the message is one line naming it."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem at one scale, ready to show to a model and to evaluate."""

    id: str
    level: int
    category: str
    scale: str
    source: str
    """The KernelBench-format problem source at this scale."""
    split: str = "train"
    origin: str = "shipped"
    """``shipped`` or the path of the checkout file it was read from."""

    def task_data(self) -> dict[str, Any]:
        return {"problem_id": self.id, "level": self.level, "category": self.category,
                "scale": self.scale, "source": self.source, "origin": self.origin}


def _package_text(relative: str) -> str:
    return resources.files("turnrl.plugins.kernelbench").joinpath(relative).read_text("utf-8")


def render_scale(source: str, overrides: dict[str, Any], *, where: str = "problem") -> str:
    """``source`` with each module-level ``NAME = ...`` in ``overrides`` set to the new value."""
    if not overrides:
        return source
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    spans: dict[str, tuple[int, int]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id in overrides:
            name = node.targets[0].id
            if name in spans:
                raise ProblemError(f"{where}: constant {name!r} is assigned twice")
            spans[name] = (node.lineno, node.end_lineno or node.lineno)
    missing = sorted(set(overrides) - set(spans))
    if missing:
        raise ProblemError(f"{where}: no module-level constant named {', '.join(missing)}")
    for name, (first, last) in sorted(spans.items(), key=lambda kv: -kv[1][0]):
        lines[first - 1:last] = [f"{name} = {overrides[name]!r}\n"]
    return "".join(lines)


def check_problem_source(source: str, where: str) -> None:
    """Raise ``ProblemError`` unless ``source`` parses and defines the three KernelBench names."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ProblemError(f"{where}: not valid Python (line {exc.lineno}: {exc.msg})") from None
    defined = {n.name for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef)}
    missing = [n for n in REQUIRED_NAMES if n not in defined]
    if missing:
        raise ProblemError(f"{where}: not a KernelBench problem (no {', '.join(missing)})")


def shipped_problem(entry: Entry | str, scale: str = "cpu") -> Problem:
    if isinstance(entry, str):
        try:
            entry = BY_ID[entry]
        except KeyError:
            raise ProblemError(f"unknown problem {entry!r}") from None
    if scale not in SCALES:
        raise ProblemError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    source = _package_text(entry.path)
    if scale == "cpu":
        source = render_scale(source, entry.cpu, where=entry.path)
    return Problem(entry.id, entry.level, entry.category, scale, source, entry.split)


def shipped_problems(scale: str = "cpu") -> list[Problem]:
    """Every shipped problem at ``scale``, in catalogue order."""
    return [shipped_problem(e, scale) for e in SHIPPED]


def expert_source(problem_id: str) -> str | None:
    """The reference Triton answer of a shipped problem (None for other sources)."""
    entry = BY_ID.get(problem_id)
    return _package_text(entry.expert_path) if entry is not None else None


def _hash_split(name: str) -> str:
    bucket = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10
    return "valid" if bucket == 0 else "test" if bucket == 1 else "train"


def _level_dirs(root: Path, levels: tuple[int, ...]) -> dict[int, Path]:
    for base in (root, root / "KernelBench"):
        found = {lv: base / f"level{lv}" for lv in levels if (base / f"level{lv}").is_dir()}
        if found:
            return found
    return {}


def kernelbench_problems(path: str | Path, levels: tuple[int, ...] | list[int] = (1, 2)
                         ) -> list[Problem]:
    """Problems of a KernelBench checkout: every ``levelN/*.py`` defining the three names.

    Files that are not problems (helpers, ``__init__.py``) are skipped; a checkout with no
    problem at all is an error naming the paths looked at.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ProblemError(f"KernelBench path {str(root)!r} is not a directory")
    levels = tuple(int(lv) for lv in levels)
    dirs = _level_dirs(root, levels)
    problems: list[Problem] = []
    for level, folder in sorted(dirs.items()):
        for file in sorted(folder.glob("*.py"), key=_natural_key):
            source = file.read_text(encoding="utf-8")
            try:
                check_problem_source(source, str(file))
            except ProblemError:
                continue
            stem = file.stem
            problems.append(Problem(f"kb-l{level}-{stem}", level, f"level{level}", "as-is",
                                    source, _hash_split(f"{level}/{stem}"), str(file)))
    if not problems:
        looked = ", ".join(str(root / sub / f"level{lv}") for sub in ("", "KernelBench")
                           for lv in levels)
        raise ProblemError(f"no KernelBench problems found (looked in {looked})")
    return problems


def _natural_key(path: Path) -> tuple[int, str]:
    """``1_Square.py`` < ``2_...`` < ``10_...`` (KernelBench numbers its files)."""
    head = path.stem.split("_", 1)[0]
    return (int(head), path.stem) if head.isdigit() else (10**9, path.stem)
