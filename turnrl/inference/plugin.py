"""Built-in plugin ``inference``: registers the four policy backends.

Factories are ``"module:attr"`` strings so registering imports nothing heavy; torch,
transformers and vLLM load only when a backend is actually built.
"""

from __future__ import annotations

from collections.abc import Callable

from turnrl.core.hookspecs import hookimpl


@hookimpl
def turnrl_register_policies(register: Callable[..., None]) -> None:
    register("hf", "turnrl.inference.hf:make_hf_policy",
             description="local transformers model (hf:PATH, or hf:tiny for the embedded one)")
    register("openai", "turnrl.inference.openai:make_openai_policy",
             description="any OpenAI-compatible server, e.g. vLLM or SGLang (openai:URL)")
    register("vllm", "turnrl.inference.vllm:make_vllm_policy",
             description="in-process vLLM engine (vllm:MODEL; needs the vllm extra)")
    register("scripted", "turnrl.inference.scripted:make_scripted_policy",
             description="expert, random or bot actions from the environment "
                         "(scripted:gold|random|BOT)",
             formats_replies=True)  # takes the run's prompt template (``template=``)
