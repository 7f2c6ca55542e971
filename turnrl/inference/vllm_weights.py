"""Weight-push plumbing for vLLM: buckets that never split a layer, and the fused-group check.

vLLM fuses some checkpoint tensors into one parameter (``q_proj``/``k_proj``/``v_proj`` into
``qkv_proj``, ``gate_proj``/``up_proj`` into ``gate_up_proj``; the model lists them in
``packed_modules_mapping``). Its in-place reload processes a fused layer once all of its parts
have arrived; a reload that brings only some of them would leave the others undefined. So:

* ``layer_buckets`` cuts a stream of ``(name, tensor)`` pairs into buckets of about
  ``bucket_bytes`` but only between decoder layers (``...layers.N.``), so the parts of one
  layer always travel in the same reload call;
* ``check_packed_groups`` refuses a push that names some parts of a fused group but not all,
  naming the missing ones (a partial update is fine as long as it replaces whole groups, e.g.
  one ``down_proj`` or the final norm).

Pure Python over names and sizes; no vLLM import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_BUCKET_BYTES = 256 << 20
"""Tensors per reload call (by size): large models are pushed layer group by layer group, so
the push never holds a second full copy of the weights."""
_LAYER_RE = re.compile(r"^(.*?\.layers\.\d+)\.")


def layer_key(name: str) -> str:
    """The unit a bucket must not split: the decoder layer (``model.layers.3``), else the
    module that owns the tensor."""
    match = _LAYER_RE.match(name)
    return match.group(1) if match else name.rsplit(".", 1)[0]


def layer_buckets(items: Iterable[tuple[str, Any]], bucket_bytes: int = DEFAULT_BUCKET_BYTES
                  ) -> Iterator[list[tuple[str, Any]]]:
    """Group a (lazy) stream of named tensors into buckets cut only where the layer changes.

    A bucket closes once it holds ``bucket_bytes`` or more and the next tensor belongs to
    another layer; tensors of one layer must arrive together (state dicts list them so).
    """
    bucket: list[tuple[str, Any]] = []
    size = 0
    current = None
    for name, tensor in items:
        key = layer_key(name)
        if bucket and key != current and size >= bucket_bytes:
            yield bucket
            bucket, size = [], 0
        bucket.append((name, tensor))
        size += _nbytes(tensor)
        current = key
    if bucket:
        yield bucket


def check_packed_groups(names: Sequence[str], packed: Mapping[str, Sequence[str]]) -> None:
    """Raise ``ValueError`` when ``names`` hold some parts of a fused group but not all."""
    given = set(names)
    for name in names:
        module, _, leaf = name.rpartition(".")
        parent, _, part = module.rpartition(".")
        for fused, parts in packed.items():
            if part not in parts or len(parts) < 2:
                continue
            siblings = {f"{parent}.{p}.{leaf}" for p in parts}
            missing = sorted(siblings - given)
            if missing:
                raise ValueError(
                    f"load_weights: {name} is fused with {', '.join(missing)} into "
                    f"{parent}.{fused} in vLLM; push all of them together (got only some)")


def checkpoint_tensor_names(model: str | Path) -> set[str]:
    """Tensor names stored in a model directory's safetensors files (headers only)."""
    from safetensors import safe_open

    names: set[str] = set()
    for file in sorted(Path(model).glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as f:
            names.update(f.keys())
    return names


def _nbytes(tensor: Any) -> int:
    try:
        return int(tensor.numel()) * int(tensor.element_size())
    except AttributeError:
        return 0
