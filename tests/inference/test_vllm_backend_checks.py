"""The vLLM backend's parts that need no vLLM: weight buckets, the fused-group check, the
model-directory checks and the one-line errors when the extra is missing. The engine itself is
tested in ``test_vllm_engine.py`` (``vllm`` tier, own venv)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from turnrl.inference.vllm import EngineStartError, check_model_dir
from turnrl.inference.vllm_weights import check_packed_groups, layer_buckets, layer_key

PACKED = {"qkv_proj": ["q_proj", "k_proj", "v_proj"], "gate_up_proj": ["gate_proj", "up_proj"]}
HAS_VLLM = importlib.util.find_spec("vllm") is not None


def _llama_names(layers: int) -> list[str]:
    names = ["model.embed_tokens.weight"]
    for i in range(layers):
        p = f"model.layers.{i}."
        names += [p + s for s in ("self_attn.q_proj.weight", "self_attn.k_proj.weight",
                                  "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                                  "mlp.gate_proj.weight", "mlp.up_proj.weight",
                                  "mlp.down_proj.weight", "input_layernorm.weight",
                                  "post_attention_layernorm.weight")]
    return [*names, "model.norm.weight", "lm_head.weight"]


def test_buckets_never_split_a_layer_and_respect_the_size() -> None:
    names = _llama_names(4)
    items = [(n, torch.zeros(256)) for n in names]  # 1 KiB each
    buckets = list(layer_buckets(iter(items), bucket_bytes=4096))
    assert [n for b in buckets for n, _ in b] == names  # order and completeness kept
    seen: set[str] = set()
    for bucket in buckets:
        keys = [layer_key(n) for n, _ in bucket]
        assert not seen & set(keys), "a layer was split across buckets"
        seen |= set(keys)
    # a 9-tensor layer (9 KiB) exceeds 4 KiB, so each decoder layer closes its own bucket
    assert len(buckets) >= 4
    assert len(list(layer_buckets(iter(items), bucket_bytes=1 << 30))) == 1


def test_fused_groups_must_be_pushed_whole() -> None:
    check_packed_groups(_llama_names(1), PACKED)
    check_packed_groups(["model.layers.0.mlp.down_proj.weight", "model.norm.weight"], PACKED)
    with pytest.raises(ValueError, match=r"q_proj.weight is fused with "
                                         r"model.layers.0.self_attn.k_proj.weight, "
                                         r"model.layers.0.self_attn.v_proj.weight"):
        check_packed_groups(["model.layers.0.self_attn.q_proj.weight"], PACKED)
    with pytest.raises(ValueError, match="gate_up_proj"):
        check_packed_groups(["model.layers.1.mlp.up_proj.weight"], PACKED)


def test_model_directory_checks(tmp_path: Path) -> None:
    with pytest.raises(EngineStartError, match="no model directory at"):
        check_model_dir(str(tmp_path / "missing"), on_cpu=True)
    with pytest.raises(EngineStartError, match=r"has no config\.json"):
        check_model_dir(str(tmp_path), on_cpu=True)
    (tmp_path / "config.json").write_text(json.dumps(
        {"hidden_size": 64, "num_attention_heads": 4}))
    with pytest.raises(EngineStartError, match="heads of size 16; vLLM's CPU backend needs >= 32"):
        check_model_dir(str(tmp_path), on_cpu=True)
    check_model_dir(str(tmp_path), on_cpu=False)  # GPU kernels take 16
    (tmp_path / "config.json").write_text(json.dumps(
        {"hidden_size": 64, "num_attention_heads": 2}))
    check_model_dir(str(tmp_path), on_cpu=True)


def test_tiny_models_have_heads_vllm_accepts(tmp_path: Path) -> None:
    from turnrl.inference.tiny import build_model, save_model_dir

    with pytest.raises(ValueError, match="head size >= 32"):
        build_model(50, hidden_size=64, heads=4)
    model = build_model(50)
    assert model.config.hidden_size // model.config.num_attention_heads >= 32

    class _Tok:
        def save_pretrained(self, out: Path) -> None:
            (Path(out) / "tokenizer.json").write_text("{}")

    out = save_model_dir(model, _Tok(), tmp_path / "m")
    check_model_dir(str(out), on_cpu=True)
    assert (out / "model.safetensors").exists()
    assert (out / "tokenizer.json").exists()


@pytest.mark.skipif(HAS_VLLM, reason="checks the error shown when vLLM is NOT installed")
def test_missing_extra_is_one_line_and_exit_2(tmp_path: Path) -> None:
    from turnrl.inference.vllm import MissingExtra, make_vllm_policy

    with pytest.raises(MissingExtra, match=r"install turnrl\[vllm\]"):
        make_vllm_policy("tiny", env="toy-env")
    proc = subprocess.run([sys.executable, "-m", "turnrl.cli", "eval", "toy-env", "--policy",
                           "vllm:tiny", "--no-progress"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "install turnrl[vllm]" in proc.stderr
