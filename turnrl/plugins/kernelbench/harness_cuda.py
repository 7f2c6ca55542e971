"""CUDA timing and profiler coverage for ``harness.py`` (runs inside the sandbox, GPU only).

Timing follows KernelBench's method: warm-up runs, then ``reps`` timed runs, each preceded by an
L2 flush (zeroing a buffer larger than the L2 cache) and bracketed by CUDA events; the median is
reported, with mean/std/min/max. The events, ``synchronize`` and ``elapsed_time`` are captured by
``capture`` *before* the answer is imported, so an answer that patches them changes nothing here
(the static checker also flags the attempt).

Coverage follows KernelGYM: one ``torch.profiler`` pass over a few forwards of ``ModelNew``;
every CUDA kernel the profiler saw is matched against the names of the answer's own Triton
kernels that the launch recorder caught. ``coverage`` is the answer-kernel share of total kernel
time; a profile with kernels but none of the answer's is a decoy.
"""


def capture(torch):
    """Trusted references to everything timing needs (call before the answer is imported)."""
    return {"Event": torch.cuda.Event, "elapsed": torch.cuda.Event.elapsed_time,
            "record": torch.cuda.Event.record, "synchronize": torch.cuda.synchronize,
            "empty": torch.empty, "zero_": torch.Tensor.zero_, "no_grad": torch.no_grad,
            "profile": torch.profiler.profile,
            "activities": [torch.profiler.ProfilerActivity.CPU,
                           torch.profiler.ProfilerActivity.CUDA]}


def time_forward(trusted, model, inputs, *, warmup, reps, flush_bytes, device):
    """Median (and stats) of ``reps`` event-timed forwards, L2 flushed before each, in ms."""
    flush = trusted["empty"](max(1, flush_bytes // 4), dtype=None, device=device)
    times = []
    with trusted["no_grad"]():
        for _ in range(warmup):
            model(*inputs)
        trusted["synchronize"]()
        for _ in range(reps):
            trusted["zero_"](flush)
            start = trusted["Event"](enable_timing=True)
            end = trusted["Event"](enable_timing=True)
            trusted["record"](start)
            model(*inputs)
            trusted["record"](end)
            trusted["synchronize"]()
            times.append(float(trusted["elapsed"](start, end)))
    return summarize(times)


def summarize(times):
    ordered = sorted(times)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else 0.5 * (ordered[n // 2 - 1] + ordered[n // 2])
    mean = sum(ordered) / n
    std = (sum((t - mean) ** 2 for t in ordered) / n) ** 0.5
    return {"median": median, "mean": mean, "std": std, "min": ordered[0],
            "max": ordered[-1], "n": n}


def kernel_events(prof):
    """(name, device microseconds) of every GPU kernel the profiler recorded."""
    out = []
    for evt in prof.events():
        kind = str(getattr(evt, "device_type", ""))
        if not kind.endswith("CUDA"):
            continue
        duration = evt.time_range.elapsed_us() if getattr(evt, "time_range", None) else 0
        out.append((evt.name, float(duration)))
    return out


def coverage_of(events, own_names):
    """Time and count coverage of the answer's kernels among the profiled kernels."""
    def mine(name):
        return any(name == k or name.startswith((k + "_", k + "."))
                   for k in own_names)

    total = sum(t for _, t in events)
    custom = sum(t for n, t in events if mine(n))
    n_custom = sum(1 for n, _ in events if mine(n))
    return {"coverage": custom / total if total > 0 else None,
            "number_coverage": n_custom / len(events) if events else None,
            "kernel_time_us": total, "custom_time_us": custom,
            "profiled_kernels": len(events), "custom_kernels": n_custom,
            "kernel_names": sorted({n for n, _ in events})[:40]}


def profile_forward(trusted, model, inputs, recorder, *, runs=3):
    recorder.start()
    with trusted["no_grad"](), trusted["profile"](activities=trusted["activities"]) as prof:
        for _ in range(runs):
            model(*inputs)
        trusted["synchronize"]()
    own, _ = recorder.stop()
    return coverage_of(kernel_events(prof), set(own))


def measure(torch, reference, candidate, inputs, recorder, cfg, trusted):
    """Timings of both models, speedup and coverage; a profiler-detected decoy sets ``decoy``."""
    device = inputs[0].device if inputs and hasattr(inputs[0], "device") else "cuda"
    opts = {"warmup": int(cfg.get("warmup", 3)), "reps": int(cfg.get("reps", 20)),
            "flush_bytes": int(cfg.get("flush_bytes", 256 * 1024 * 1024)), "device": device}
    ref = time_forward(trusted, reference, inputs, **opts)
    new = time_forward(trusted, candidate, inputs, **opts)
    prof = profile_forward(trusted, candidate, inputs, recorder)
    out = {"ref_runtime_ms": ref["median"], "runtime_ms": new["median"],
           "ref_runtime_stats": ref, "runtime_stats": new,
           "speedup": ref["median"] / new["median"] if new["median"] > 0 else None,
           "profile": prof, "coverage": prof["coverage"]}
    if prof["profiled_kernels"] > 0 and prof["custom_kernels"] == 0:
        out["profiler_decoy"] = True
    return out
