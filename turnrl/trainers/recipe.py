"""The RL recipe, top to bottom: warm start, then rollout -> advantages -> PPO -> push -> log.

    turnrl train turnrl/tasks/quickstart.yaml                      # one process
    torchrun --nproc-per-node 8 -m turnrl.cli train CONFIG         # FSDP2 over 8 devices

How it departs from a textbook PPO loop:

* Advantages are per *step* of a multi-turn episode (one scalar from the registered estimator,
  e.g. HGPO or GiGPO), broadcast over that step's response tokens; there is no critic.
* Each rank plays its own share of the groups with its own in-process ``hf`` policy and
  computes advantages on whole groups, so no group is ever split across ranks.
* Evaluation samples on a fixed held-out panel once per seed in ``eval.seeds`` (sampling seeds
  are derived from the task, so the numbers are reproducible) and reports mean and spread.
* Resume: the last complete checkpoint restores weights, optimizer, scheduler, RNG and the
  iteration counter (the data position: tasks and sampling seeds of iteration ``i`` are a pure
  function of ``(seed, i)``), so a killed run continues as if it had not been interrupted.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from turnrl.core.provenance import record_versions
from turnrl.core.rollout import split_failed
from turnrl.executors import executor_from_config
from turnrl.trainers import checkpoint
from turnrl.trainers.batch import step_advantages, token_rows
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.fsdp import (
    DistInfo,
    LogProbModel,
    distributed,
    full_state_dict,
    shard,
)
from turnrl.trainers.iteration_metrics import (
    audit,
    dropped_note,
    episode_metrics,
    failure_metrics,
)
from turnrl.trainers.logging import MetricsLogger
from turnrl.trainers.mismatch import prepare_old_logprobs
from turnrl.trainers.plots import write_learning_curve
from turnrl.trainers.policies import rollout_policy
from turnrl.trainers.recipe_episodes import (
    eval_panel,
    evaluate,
    keep_episodes,
    rollout,
    rollout_config,
    say,
)
from turnrl.trainers.rejection import profiling_keep
from turnrl.trainers.sft import expert_groups, jsonl_groups, run_sft, successful_rows
from turnrl.trainers.update import (
    StepStats,
    logprobs,
    micro_batches,
    optimizer_step,
    ppo_token_loss,
)
from turnrl.trainers.weight_push import close_policy, push_weights


def train(cfg: TrainConfig, run_dir: Path) -> dict[str, Any]:
    """Run the whole recipe; returns (and writes, on the main rank) ``summary.json``. Under
    torchrun the ranks leave the process group together at the end (``distributed``)."""
    with distributed() as info, contextlib.ExitStack() as cleanup:
        return _train(cfg, run_dir, info, cleanup)


def _train(cfg: TrainConfig, run_dir: Path, info: DistInfo, cleanup: contextlib.ExitStack
           ) -> dict[str, Any]:
    from turnrl.core.host import get_host

    t_start = time.perf_counter()
    fork_source = init_source(cfg)  # a typo in checkpoint.init_from fails before any work
    if cfg.trainer.threads:
        torch.set_num_threads(cfg.trainer.threads)
    torch.manual_seed(cfg.seed)
    host = get_host()
    executor = executor_from_config(cfg.rollout)  # None: environments in this process
    if executor is not None:  # its actors live for the whole run; gone also when it fails
        cleanup.callback(executor.close)
    lm, tokenizer = build_model(cfg, host)
    policy = rollout_policy(cfg.policy, lm, tokenizer, info.device, run_dir)
    cleanup.callback(close_policy, policy)  # a vLLM engine holds threads and memory
    model = shard(LogProbModel(lm, temperature=cfg.policy.sampling.temperature or 1.0,
                               kernel_backend=cfg.trainer.kernel_backend), info,
                  mixed_precision=cfg.trainer.mixed_precision,
                  cpu_offload=cfg.trainer.cpu_offload,
                  activation_checkpointing=cfg.trainer.activation_checkpointing)
    optimizer, scheduler = make_optimizer(model, cfg)
    logger = MetricsLogger(run_dir, tensorboard=cfg.logging.tensorboard,
                           wandb_project=cfg.logging.wandb_project, enabled=info.is_main,
                           host=host, config=cfg.model_dump(mode="json"))
    cleanup.callback(logger.close)  # also when the run fails
    ckpt_dir = run_dir / "checkpoints"
    pad_id = tokenizer.pad_token_id or 0

    # ---------------------------------------------------------------- resume or warm start
    resume = checkpoint.latest(ckpt_dir) if cfg.checkpoint.resume else None
    if resume is not None:
        check_same_run(checkpoint.peek(resume).get("identity", {}), run_identity(cfg), resume)
        state = checkpoint.load(resume, model=model, optimizer=optimizer, scheduler=scheduler,
                                info=info)
        start, summary = state["step"] + 1, state["extra"]["summary"]
        if changed := record_versions(summary):  # this part's software, when it differs
            say(info, f"resuming on other software than the run so far: {', '.join(changed)}")
        push_weights(model, policy)
        say(info, f"resumed from {resume} (iteration {state['step']})")
    elif fork_source is not None:
        state = checkpoint.load(fork_source, model=model, optimizer=optimizer,
                                scheduler=scheduler, info=info)
        start = state["step"] + 1
        summary = copy.deepcopy(state["extra"].get("summary", {})) or {"success": {}}
        summary["init_from"] = str(fork_source)
        if changed := record_versions(summary):  # after the source's own entries
            say(info, f"forking on other software than {fork_source}: {', '.join(changed)}")
        push_weights(model, policy)
        say(info, f"started from {fork_source} (iteration {state['step']}; SFT skipped)")
    else:
        summary = {"success": {}}
        record_versions(summary)
        if cfg.sft.enabled:
            summary["success"]["pre_sft"] = evaluate(policy, cfg, host, info, "pre_sft",
                                                     executor)
            warm_start(model, cfg, host, tokenizer, info, logger, pad_id, executor)
            push_weights(model, policy)
            summary["success"]["post_sft"] = evaluate(policy, cfg, host, info, "post_sft",
                                                      executor)
        else:
            summary["success"]["initial"] = evaluate(policy, cfg, host, info, "initial",
                                                     executor)
        start = 1
        if cfg.checkpoint.every:
            checkpoint.save(ckpt_dir, 0, model=model, optimizer=optimizer,
                            scheduler=scheduler, info=info,
                            extra={"summary": summary, "identity": run_identity(cfg)},
                            keep=cfg.checkpoint.keep)
    ref_model = make_reference(model, cfg, info, run_dir / "reference", resumed=resume is not None)
    train_tasks = host.tasks(cfg.env.name, cfg.env.train_split, **cfg.env.task_options)

    # ---------------------------------------------------------------- RL iterations
    last_eval: tuple[int, dict[str, Any]] | None = None
    for it in range(start, cfg.trainer.iterations + 1):
        t0 = time.perf_counter()
        rng = random.Random(f"turnrl/train/{cfg.seed}/{it}")
        tasks = rng.sample(train_tasks, min(cfg.rollout.groups, len(train_tasks)))
        played = rollout(policy, tasks[info.rank::info.world], cfg, host,
                         seed=cfg.seed * 1_000_003 + it, group_size=cfg.rollout.group_size,
                         id_prefix=f"it{it:04d}/", executor=executor)
        if cfg.rollout.store_every and it % cfg.rollout.store_every == 0:
            keep_episodes(played, run_dir, info)
        groups, dropped = split_failed(played)  # estimators compare whole groups only
        t1 = time.perf_counter()
        adv, batch = step_advantages(groups, cfg.advantage.name, cfg.advantage.params)
        keep, prs = profiling_keep(groups, cfg.rejection.profiling,  # Dr. Kernel PRS
                                   np.random.default_rng([cfg.seed, it, info.rank]))
        rows = token_rows(groups, adv, keep=keep)
        if cfg.trainer.skip_zero_advantage:
            rows = [r for r in rows if r.advantage != 0.0]
        stats = ppo_update(model, optimizer, scheduler, ref_model, rows, cfg, info, pad_id)
        stats |= prs
        t2 = time.perf_counter()
        push_weights(model, policy)
        t3 = time.perf_counter()
        metrics = episode_metrics(played, info) | failure_metrics(played, dropped, info) \
            | stats | audit(batch, adv)
        metrics |= {"time/rollout_s": t1 - t0, "time/train_s": t2 - t1, "time/sync_s": t3 - t2,
                    "tokens_per_s": stats["tokens"] * cfg.trainer.ppo_epochs / max(t2 - t1, 1e-9),
                    "lr": scheduler.get_last_lr()[0]}
        if cfg.trainer.eval_every and it % cfg.trainer.eval_every == 0:
            last_eval = (it, evaluate(policy, cfg, host, info, f"it{it}", executor))
            metrics["eval/success"] = last_eval[1]["mean"]
            metrics["eval/return"] = last_eval[1]["score_mean"]  # WebShop's task score
        logger.log(it, metrics)
        if metrics["groups/dropped"]:
            say(info, dropped_note(it, metrics, dropped))
        say(info, f"iter {it}: success {metrics['success']:.2f} reward "
                  f"{metrics['reward']:.2f} loss {metrics['loss']:+.4f} "
                  f"|dlogp| {metrics.get('mismatch/mean_abs', 0.0):.1e} "
                  f"({t1 - t0:.1f}s rollout, {t2 - t1:.1f}s train)")
        if cfg.checkpoint.every and it % cfg.checkpoint.every == 0:
            checkpoint.save(ckpt_dir, it, model=model, optimizer=optimizer, scheduler=scheduler,
                            info=info, extra={"summary": summary, "identity": run_identity(cfg)},
                            keep=cfg.checkpoint.keep)

    # ---------------------------------------------------------------- final evaluation
    if last_eval is not None and last_eval[0] == cfg.trainer.iterations:
        final = last_eval[1]  # the same weights, panel and seeds: the same numbers
        say(info, f"eval post_rl: the it{last_eval[0]} evaluation (same policy)")
    else:
        final = evaluate(policy, cfg, host, info, "post_rl", executor)
    summary["success"]["post_rl" if cfg.trainer.iterations else "final"] = final
    summary["wall_time_s"] = time.perf_counter() - t_start
    summary["iterations"] = cfg.trainer.iterations
    summary["world_size"] = info.world
    summary["eval_panel"] = {"split": cfg.eval.panel or cfg.env.eval_split,
                             "tasks": len(eval_panel(cfg, host)), "seeds": list(cfg.eval.seeds)}
    final_weights = full_state_dict(model)  # collective: every rank takes part
    if info.is_main:
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        export(model, final_weights, tokenizer, run_dir / "final")
    logger.close()
    if info.is_main and (plot := write_learning_curve(run_dir)) is not None:
        say(info, f"learning curve: {plot}")
    return summary


# -------------------------------------------------------------------- building blocks
def run_identity(cfg: TrainConfig) -> dict[str, Any]:
    """The config sections that fix the network, tokenizer and data order of a run."""
    return {k: v for k, v in cfg.model_dump(mode="json").items()
            if k in ("env", "policy", "model", "seed")}


def check_same_run(saved: dict[str, Any], current: dict[str, Any], path: Path, *,
                   hint: str = "use another --run-dir or checkpoint.resume=false") -> None:
    """Refuse to resume a checkpoint written by a run with another model, env or seed (its
    weights would be loaded against a different tokenizer)."""
    from turnrl.core.config import ConfigError

    if not saved:  # written before identities were recorded
        return
    for key in sorted(set(saved) | set(current)):
        if saved.get(key) != current.get(key):
            raise ConfigError(
                f"{key}: the checkpoint {path} was written with {key}={saved.get(key)!r}, this "
                f"run has {current.get(key)!r}; {hint}")


def init_source(cfg: TrainConfig) -> Path | None:
    """The checkpoint ``checkpoint.init_from`` names (a step directory, or a run or
    ``checkpoints`` directory meaning its latest one), checked to come from a run with this
    run's identity; ``ConfigError`` if there is none or it does not match."""
    from turnrl.core.config import ConfigError

    if not cfg.checkpoint.init_from:
        return None
    path = Path(cfg.checkpoint.init_from)
    found = checkpoint.latest(path) or checkpoint.latest(path / "checkpoints")
    if found is None and (path / "extra_rank0.pt").is_file():
        found = path
    if found is not None:
        check_same_run(checkpoint.peek(found).get("identity", {}), run_identity(cfg), found,
                       hint="checkpoint.init_from needs a run with the same env, policy, "
                            "model and seed")
        return found
    raise ConfigError(f"checkpoint.init_from: {str(path)!r} is neither a checkpoint directory "
                      "(step_NNNNNN) nor a run or checkpoints directory with a complete one")


def build_model(cfg: TrainConfig, host: Any) -> tuple[torch.nn.Module, Any]:
    """The causal LM to train and its tokenizer (``model.source``)."""
    if cfg.model.source == "tiny":
        from turnrl.inference.tiny import build_tiny

        lm, tok = build_tiny(cfg.env.name, seed=cfg.seed, hidden_size=cfg.model.hidden_size,
                             layers=cfg.model.layers, heads=cfg.model.heads, host=host,
                             env_options=dict(cfg.env.options),
                             task_options=dict(cfg.env.task_options))
    else:
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(cfg.policy.model)
        if cfg.model.random_init:
            lm = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(cfg.policy.model))
        else:
            lm = AutoModelForCausalLM.from_pretrained(cfg.policy.model, dtype=torch.float32)
    return lm.train(), tok


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> tuple[Any, Any]:
    o = cfg.optim
    optimizer = torch.optim.AdamW(model.parameters(), lr=o.lr, betas=o.betas,
                                  weight_decay=o.weight_decay)
    warm = max(o.warmup_steps, 0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warm) if warm else 1.0)
    return optimizer, scheduler


def make_reference(model: LogProbModel, cfg: TrainConfig, info: DistInfo, path: Path, *,
                   resumed: bool) -> Any:
    """A frozen copy of the post-SFT policy, only when the KL penalty is on, sharded like the
    policy. Its weights are saved once (``RUN_DIR/reference``) so a resumed run keeps the same
    reference. FSDP2 modules refuse ``deepcopy``, so the copy is a fresh model of the same
    architecture (``from_config``, built under a forked RNG so the run's random stream is
    untouched) that loads those weights through DCP, on any number of ranks."""
    if cfg.loss.kl_coef == 0:
        return None
    if not (resumed and path.exists()):
        checkpoint.save_weights(path, model, info)
    from transformers import AutoModelForCausalLM

    with torch.random.fork_rng(devices=[]):
        lm = AutoModelForCausalLM.from_config(model.lm.config)
    ref = shard(LogProbModel(lm, temperature=model.temperature,
                             kernel_backend=model.kernel_backend), info,
                mixed_precision=cfg.trainer.mixed_precision, cpu_offload=cfg.trainer.cpu_offload)
    checkpoint.load_weights(path, ref, info)
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref.eval()


def warm_start(model: LogProbModel, cfg: TrainConfig, host: Any, tokenizer: Any,
               info: DistInfo, logger: MetricsLogger, pad_id: int, executor: Any = None
               ) -> None:
    """SFT on expert demonstrations (or a JSONL of episodes); only action tokens trained."""
    if cfg.sft.source == "jsonl":
        groups = jsonl_groups(cfg.sft.path)  # type: ignore[arg-type]
    else:
        tasks = host.tasks(cfg.env.name, cfg.env.train_split, **cfg.env.task_options)
        demo_tasks = random.Random(f"turnrl/sft/{cfg.seed}").sample(
            tasks, min(cfg.sft.episodes, len(tasks)))
        groups = expert_groups(cfg.env.name, demo_tasks, tokenizer,
                               rollout_config(cfg, seed=cfg.seed), host, executor)
    rows = successful_rows(groups)
    if not rows:
        raise ValueError("SFT: no successful demonstration with token ids")
    history = run_sft(model, rows, steps=cfg.sft.steps, batch_steps=cfg.sft.batch_steps,
                      lr=cfg.sft.lr, micro_batch_tokens=cfg.trainer.micro_batch_tokens,
                      max_grad_norm=cfg.optim.max_grad_norm, info=info, seed=cfg.seed,
                      pad_id=pad_id)
    for i, st in enumerate(history, 1):
        logger.log(i, st.means(), phase="sft")
    if history:
        say(info, f"sft: {len(rows)} demo steps, {len(history)} updates, "
                  f"nll {history[0].loss:.3f} -> {history[-1].loss:.3f}")


def ppo_update(model: LogProbModel, optimizer: Any, scheduler: Any, ref_model: Any,
               rows: list[Any], cfg: TrainConfig, info: DistInfo, pad_id: int
               ) -> dict[str, float]:
    """``ppo_epochs`` passes over this rank's rows, ``mini_batches`` optimizer steps each."""
    model.train()
    order = list(range(len(rows)))
    parts = [order[k::cfg.trainer.mini_batches] for k in range(cfg.trainer.mini_batches)]
    batches = [micro_batches(rows, part, cfg.trainer.micro_batch_tokens, info, pad_id)
               for part in parts]
    measured = prepare_old_logprobs(model, batches, rows, cfg, info)  # pi_old, mismatch/*
    refs = [logprobs(ref_model, mbs) if ref_model is not None else None for mbs in batches]
    token_loss = ppo_token_loss(cfg.loss)
    history: list[StepStats] = []
    for _ in range(cfg.trainer.ppo_epochs):
        for mbs, ref in zip(batches, refs, strict=True):
            history.append(optimizer_step(model, optimizer, scheduler, mbs, token_loss,
                                          agg=cfg.loss.agg, max_grad_norm=cfg.optim.max_grad_norm,
                                          info=info, ref_logps=ref))
    first = history[0].means()  # loss/stats at the pre-update policy: comparable across runs
    last = history[-1].means()
    return {"loss": first["loss"], "loss_last": last["loss"], "grad_norm": last["grad_norm"],
            "tokens": first["tokens"], "clip_frac": last.get("clip_frac", 0.0),
            "entropy": first.get("entropy", 0.0), "approx_kl": last.get("approx_kl", 0.0),
            "kl": last.get("kl", 0.0)} | measured


def export(model: LogProbModel, weights: dict[str, torch.Tensor], tokenizer: Any,
           out: Path) -> None:
    """The final weights as a Hugging Face directory (``turnrl eval --policy hf:DIR``), from
    the trainer's gathered state dict (whatever backend played the rollouts)."""
    from transformers import AutoModelForCausalLM

    with torch.random.fork_rng(devices=[]):
        lm = AutoModelForCausalLM.from_config(model.lm.config)
    missing, unexpected = lm.load_state_dict(weights, strict=False)
    tied = {"lm_head.weight"} if getattr(lm.config, "tie_word_embeddings", False) else set()
    if unexpected or set(missing) - tied:
        raise RuntimeError(f"export: missing {sorted(set(missing) - tied)}, "
                           f"unexpected {sorted(unexpected)}")
    lm.save_pretrained(out)
    tokenizer.save_pretrained(out)
