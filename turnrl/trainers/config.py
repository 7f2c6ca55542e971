"""The trainer's configuration: ``RunConfig`` plus the sections only training reads.

``TrainConfig`` adds ``model`` (what to build), ``loss``, ``optim``, ``trainer`` (loop shape and
FSDP options), ``sft`` (warm start), ``checkpoint`` and ``logging``. Same loading, same one-line
errors: ``load_config(path, overrides, model=TrainConfig)``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from turnrl.core.config import RunConfig, Section
from turnrl.trainers.rejection import RejectionConfig


class ModelConfig(Section):
    """The trained network. ``tiny`` builds a seeded random Qwen2-shaped model whose word-level
    vocabulary comes from the environment (no download); ``hf`` loads ``policy.model``."""

    source: Literal["tiny", "hf"] = "tiny"
    """``tiny``: build from the environment's words; ``hf``: ``from_pretrained(policy.model)``."""
    hidden_size: int = Field(64, ge=8)
    """Tiny model width."""
    layers: int = Field(2, ge=1)
    """Tiny model depth (decoder layers)."""
    heads: int = Field(2, ge=1)
    """Tiny model attention heads (``hidden_size / heads`` must be >= 32, the narrowest head
    vLLM's CPU attention accepts, so ``hf`` and ``vllm`` run the same model)."""
    random_init: bool = False
    """``hf`` only: build from the config with random weights (benchmarks without weights)."""


class LossConfig(Section):
    """PPO objective (see ``turnrl.trainers.losses``)."""

    clip_low: float = Field(0.2, ge=0, lt=1)
    """Lower ratio clip: ratio is kept above ``1 - clip_low``."""
    clip_high: float = Field(0.28, ge=0)
    """Upper ratio clip ("clip-higher"): ratio is kept below ``1 + clip_high``."""
    dual_clip: float | None = Field(3.0, gt=1)
    """Cap ``-c * A`` on the loss of negative-advantage tokens; None disables."""
    agg: Literal["token-mean", "seq-mean-token-sum", "seq-mean-token-mean"] = "token-mean"
    """How per-token losses become one scalar."""
    kl_coef: float = Field(0.0, ge=0)
    """Weight of the KL penalty to the reference (initial) policy; 0 skips the reference model."""
    kl_kind: Literal["kl", "abs", "mse", "low_var_kl"] = "low_var_kl"
    """Per-token KL estimator."""
    entropy_coef: float = Field(0.0, ge=0)
    """Weight of the entropy bonus."""
    tis_cap: float | None = Field(None, gt=0)
    """Truncated importance weight ``min(pi_old / pi_rollout, cap)``; None disables. Needs
    trainer-recomputed ``pi_old`` (``old_logprobs: recompute`` or ``auto``)."""
    old_logprobs: Literal["auto", "rollout", "recompute"] = "auto"
    """PPO's ``pi_old``: the inference engine's log-probs (``rollout``), or a trainer forward
    pass before the update (``recompute``). ``auto`` recomputes unless the rollout ran with the
    trainer's own numerics (the in-process ``hf`` backend, no mixed precision, no ``tis_cap``):
    under bf16 mixed precision or another engine the two differ and the ratio would be off."""

    @model_validator(mode="after")
    def _tis_needs_recompute(self) -> LossConfig:
        if self.tis_cap is not None and self.old_logprobs == "rollout":
            raise ValueError("tis_cap needs old_logprobs: recompute (it compares trainer and "
                             "rollout log-probs)")
        return self


class OptimConfig(Section):
    """AdamW with linear warm-up then constant learning rate."""

    lr: float = Field(1e-5, gt=0)
    """Peak learning rate."""
    weight_decay: float = Field(0.0, ge=0)
    """Decoupled weight decay."""
    betas: tuple[float, float] = (0.9, 0.999)
    """Adam betas."""
    warmup_steps: int = Field(0, ge=0)
    """Optimizer steps of linear warm-up."""
    max_grad_norm: float = Field(1.0, ge=0)
    """Global gradient-norm clip; 0 disables."""


class TrainerSection(Section):
    """Loop shape and distributed options of the RL phase."""

    iterations: int = Field(10, ge=0)
    """RL iterations (rollout -> update -> push)."""
    ppo_epochs: int = Field(1, ge=1)
    """Passes over each iteration's batch."""
    mini_batches: int = Field(1, ge=1)
    """Optimizer steps per epoch (the batch is split into this many parts)."""
    micro_batch_tokens: int = Field(4096, ge=16)
    """Token budget (padded ``rows x length``) of one forward/backward."""
    mixed_precision: bool = True
    """bf16 parameters with fp32 reduction on GPU (ignored on CPU)."""
    cpu_offload: bool = False
    """FSDP2 CPU offload of parameters and optimizer state."""
    activation_checkpointing: bool = False
    """Recompute activations in backward to save memory."""
    kernel_backend: str = "auto"
    """Backend of ``fused_logprob_entropy`` (``auto``, ``triton``, ``torch``)."""
    skip_zero_advantage: bool = True
    """Leave out steps whose advantage is exactly 0 (e.g. groups where every episode failed
    alike): they carry no policy gradient, only cost compute and dilute ``token-mean``."""
    eval_every: int = Field(0, ge=0)
    """Held-out evaluation every N iterations (0: only before and after)."""
    threads: int | None = Field(None, ge=1)
    """``torch.set_num_threads`` on CPU; None keeps torch's default."""


class SFTConfig(Section):
    """Supervised warm start on expert trajectories (only action tokens are trained)."""

    enabled: bool = False
    """Run the SFT phase before RL."""
    source: Literal["expert", "jsonl"] = "expert"
    """``expert``: play the environment's gold policy; ``jsonl``: read episodes from ``path``."""
    path: str | None = None
    """JSONL of ``Episode.to_dict()`` records (``source: jsonl``)."""
    episodes: int = Field(32, ge=1)
    """Expert episodes to generate (``source: expert``)."""
    steps: int = Field(20, ge=0)
    """Optimizer steps of SFT."""
    batch_steps: int = Field(32, ge=1)
    """Trajectory steps (rows) per optimizer step."""
    lr: float = Field(1e-3, gt=0)
    """SFT learning rate (constant)."""

    @model_validator(mode="after")
    def _jsonl_needs_path(self) -> SFTConfig:
        if self.enabled and self.source == "jsonl" and not self.path:
            raise ValueError("source: jsonl needs path: FILE.jsonl")
        return self


class CheckpointConfig(Section):
    """Distributed checkpoints under ``RUN_DIR/checkpoints``."""

    every: int = Field(1, ge=0)
    """Checkpoint every N iterations (0: never)."""
    keep: int = Field(2, ge=1)
    """Complete checkpoints to keep."""
    resume: bool = True
    """Resume from the last complete checkpoint in the run directory when there is one."""
    init_from: str | None = None
    """Start this run from another run's checkpoint instead of warm-starting: a
    ``step_NNNNNN`` directory, or a run directory (or its ``checkpoints`` directory), meaning
    its latest complete checkpoint. The run continues that checkpoint as a fork: weights, RNG
    state, optimizer state if it has one (with its learning rate) and the iteration counter come
    from it, SFT is skipped, and its held-out evaluations (``pre_sft``/``post_sft``) are copied
    into this run's summary. Env, policy, model and seed must match the checkpoint's run (the
    tiny model's tokenizer depends on them). A checkpoint in this run's own directory still wins
    (resume). Typical use: one SFT run with ``trainer.iterations=0 checkpoint.every=1``, then
    every RL variant with ``checkpoint.init_from=SFT_RUN_DIR`` (``benchmarks/estimators.py``)."""


class LoggingConfig(Section):
    """Where metrics go (``metrics.jsonl`` is always written)."""

    tensorboard: bool = True
    """Write TensorBoard events under ``RUN_DIR/tb``."""
    wandb_project: str | None = None
    """Log to this Weights & Biases project (needs ``wandb`` installed and logged in)."""


class MismatchConfig(Section):
    """Rollout-vs-trainer log-prob mismatch (``turnrl.trainers.mismatch``): measured on every
    iteration's response tokens before the update, logged as ``mismatch/*``; optionally used
    to drop mismatched trajectories and turns from the loss (Dr. Kernel's rejection)."""

    threshold: float = Field(0.1, gt=0)
    """``|logp_trainer - logp_rollout|`` above which a token counts in ``mismatch/frac_over``."""
    reject: bool = False
    """Drop from the loss whole trajectories whose importance weight
    ``exp(mean(logp_trainer - logp_rollout))`` leaves ``[low, high]``, and single turns with a
    token below ``token_floor`` (``drkernel.mismatch_rejection``)."""
    low: float = Field(0.999, gt=0)
    """Smallest trajectory importance weight kept (``reject``)."""
    high: float = Field(1.001, gt=0)
    """Largest trajectory importance weight kept (``reject``)."""
    token_floor: float = -9.210340371976182
    """A turn with a token whose ``logp_trainer - logp_rollout`` is below this is dropped
    (``reject``; default ``log(1e-4)``)."""

    @model_validator(mode="after")
    def _ordered(self) -> MismatchConfig:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must be <= high ({self.high})")
        return self


class TrainConfig(RunConfig):
    """A training run: the shared run sections plus the trainer's."""

    model: ModelConfig = Field(default_factory=ModelConfig)
    """What network to build."""
    loss: LossConfig = Field(default_factory=LossConfig)
    """PPO objective."""
    optim: OptimConfig = Field(default_factory=OptimConfig)
    """Optimizer of the RL phase."""
    trainer: TrainerSection = Field(default_factory=TrainerSection)
    """Loop shape and distributed options."""
    sft: SFTConfig = Field(default_factory=SFTConfig)
    """Warm start."""
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    """Checkpointing and resume."""
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    """Metric sinks."""
    mismatch: MismatchConfig = Field(default_factory=MismatchConfig)
    """Rollout-vs-trainer log-prob mismatch: measurement and optional rejection."""
    rejection: RejectionConfig = Field(default_factory=RejectionConfig)
    """Dr. Kernel's profiling rejection sampling (mismatch rejection: ``mismatch.reject``)."""
