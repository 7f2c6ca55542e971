"""Pull the answer's code out of the model's text: the last fenced Python block.

KernelBench and Dr. Kernel both read the code from a fenced block; the *last* one wins, so a
model that first quotes the problem and then writes its solution is read correctly. Blocks
tagged ``python``, ``py``, ``python3`` or left untagged count; other languages do not.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+.-]*)[^\n]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
PYTHON_TAGS = frozenset({"python", "py", "python3", ""})

NO_CODE = ("Your answer has no ```python code block. Reply with the complete implementation "
           "(imports, the @triton.jit kernels and class ModelNew) in one ```python block.")
CUT_OFF = ("Your answer opens a ```python block but never closes it: it was probably cut off. "
           "Reply with a shorter, complete implementation in one ```python block.")


def extract_code(text: str) -> str | None:
    """The body of the last fenced Python block, or None when there is none."""
    blocks = [m.group(2) for m in _FENCE.finditer(text) if m.group(1).lower() in PYTHON_TAGS]
    return blocks[-1] if blocks else None


def missing_code_message(text: str) -> str:
    """Why there is no code: an unclosed fence (cut-off answer) or no fence at all."""
    opens = re.findall(r"```[ \t]*(?:python|py|python3)?[ \t]*\n", text, re.IGNORECASE)
    return CUT_OFF if opens and text.count("```") % 2 == 1 else NO_CODE
