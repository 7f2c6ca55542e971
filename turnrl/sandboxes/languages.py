"""Languages ``run(code, language=...)`` knows: where the code is written and what runs it.

A registry (data), not a ladder: a backend only needs the interpreter placeholder resolved
(``PYTHON`` becomes the backend's Python). SandboxFusion's names for the same languages
(``python3``, ``bash``, ``sh``) are accepted as aliases so its requests map one to one.
"""

from __future__ import annotations

from dataclasses import dataclass

from turnrl.sandboxes.api import PYTHON, SandboxUsageError


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    name: str
    filename: str
    argv: tuple[str, ...]


LANGUAGES: dict[str, LanguageSpec] = {
    "python": LanguageSpec("python", "main.py", (PYTHON, "main.py")),
    "bash": LanguageSpec("bash", "main.sh", ("bash", "main.sh")),
    "sh": LanguageSpec("sh", "main.sh", ("sh", "main.sh")),
}
ALIASES: dict[str, str] = {"python3": "python", "py": "python"}


def language_spec(name: str) -> LanguageSpec:
    """The spec of ``name`` (or an alias); one line listing the known ones otherwise."""
    key = ALIASES.get(name, name)
    if key not in LANGUAGES:
        known = ", ".join(sorted(LANGUAGES) + sorted(ALIASES))
        raise SandboxUsageError(f"unknown language {name!r}; known: {known}")
    return LANGUAGES[key]
