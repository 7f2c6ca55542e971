"""Weight push to a model served over HTTP, through a shared filesystem.

An in-process backend takes the trainer's tensors directly (``HFPolicy.load_weights``,
``VLLMPolicy.load_weights``). A server in another process cannot, so the documented path is:

1. the trainer writes the full (gathered) tensors as one safetensors file into a directory
   both sides can read (``write_weights``; atomic: written under a temporary name, then renamed,
   so the server never reads half a file);
2. it tells the server to reload that directory (``reload_from_directory``), in one of two
   styles (``RELOAD_STYLES``):

   * ``turnrl``: ``POST /update_weights_from_disk {"model_path": DIR}`` at the server root (the
     name SGLang uses for the same operation); ``python -m turnrl.inference.serve`` implements
     it, loads every ``*.safetensors`` file in ``DIR`` and answers once the weights are in place.
   * ``vllm``: a vLLM OpenAI server (``python -m vllm.entrypoints.openai.api_server``) started
     with ``VLLM_SERVER_DEV_MODE=1``: ``POST /pause?mode=wait`` (requests in flight finish, new
     ones wait), ``POST /collective_rpc {"method": "reload_weights", "kwargs": {"weights_path":
     DIR}}`` (vLLM's in-place reload; the files may hold only some tensors),
     ``POST /reset_prefix_cache``, ``POST /resume``.

Either way a completion is never sampled from a mix of old and new weights.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

RELOAD_ENDPOINT = "/update_weights_from_disk"
WEIGHTS_FILE = "model.safetensors"
RELOAD_STYLES = ("turnrl", "vllm")


def write_weights(state: Mapping[str, Any] | Iterable[tuple[str, Any]],
                  directory: str | os.PathLike[str]) -> Path:
    """Write ``state`` (name -> tensor, or ``(name, tensor)`` pairs; DTensors are gathered) to
    ``DIR/model.safetensors``, replacing what an earlier push wrote there."""
    from safetensors.torch import save_file

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for name, value in (state.items() if isinstance(state, Mapping) else state):
        tensor = value.full_tensor() if hasattr(value, "full_tensor") else value
        tensors[name] = tensor.detach().contiguous().cpu()
    tmp = out / f".{WEIGHTS_FILE}.tmp-{os.getpid()}"
    save_file(_untie(tensors), str(tmp))
    final = out / WEIGHTS_FILE
    os.replace(tmp, final)
    return final


def read_weights(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Every tensor of every ``*.safetensors`` file in ``directory`` (a clear error if none)."""
    from safetensors.torch import load_file

    path = Path(directory)
    files = sorted(path.glob("*.safetensors")) if path.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no *.safetensors file in {str(path)!r}")
    state: dict[str, Any] = {}
    for file in files:
        state.update(load_file(str(file)))
    return state


def _untie(tensors: dict[str, Any]) -> dict[str, Any]:
    """safetensors refuses tensors that share storage (tied embeddings): store copies."""
    seen: set[int] = set()
    out = {}
    for name, t in tensors.items():
        ptr = t.untyped_storage().data_ptr()
        out[name] = t.clone() if ptr in seen else t
        seen.add(ptr)
    return out


async def reload_from_directory(root_url: str, directory: str | os.PathLike[str], *,
                                style: str = "turnrl", api_key: str | None = None) -> None:
    """Ask the server at ``root_url`` (no ``/v1``) to load the weights in ``directory``."""
    import aiohttp

    from turnrl.inference.openai import ServerError

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    path = str(Path(directory).resolve())
    if style == "turnrl":
        calls = [("POST", RELOAD_ENDPOINT, {"model_path": path}, False)]
    elif style == "vllm":
        calls = [("POST", "/pause?mode=wait", None, True),
                 ("POST", "/collective_rpc", {"method": "reload_weights",
                                              "kwargs": {"weights_path": path}}, False),
                 ("POST", "/reset_prefix_cache", None, True),
                 ("POST", "/resume", None, True)]
    else:
        raise ValueError(f"weight reload style {style!r} is not one of {RELOAD_STYLES}")
    async with aiohttp.ClientSession(headers=headers) as session:
        for method, endpoint, body, optional in calls:
            url = root_url + endpoint
            try:
                async with session.request(method, url, json=body) as resp:
                    if resp.status == 404 and optional:
                        continue  # an older server without this endpoint
                    if resp.status == 404 and style == "vllm":
                        raise ServerError(f"{url} is not there: start the vLLM server with "
                                          "VLLM_SERVER_DEV_MODE=1 to reload weights")
                    if resp.status >= 400:
                        raise ServerError(f"{url} refused the weight reload: HTTP "
                                          f"{resp.status}: {(await resp.text())[:500]}")
            except aiohttp.ClientConnectionError as exc:
                raise ServerError(f"cannot reach {url} to reload weights: {exc}") from exc
