"""The evaluation program that runs *inside* the sandbox: one problem, one answer, one JSON result.

Self-contained on purpose (stdlib, numpy, torch, triton; never ``turnrl``): the sandbox copies
this file, ``harness_cuda.py``, ``problem.py`` and ``answer.py`` into its working directory and
runs ``python -I harness.py`` with the configuration on stdin. Order matters, and is what makes
the answer unable to touch the numbers it is judged against:

1. Read the configuration from stdin (the answer can never read it: stdin is drained first),
   including a random ``nonce`` that prefixes every line this program reports.
2. Save the real stdout on a private descriptor, then point fd 1 at stderr: whatever the answer
   prints lands in stderr, and only this program writes result lines.
3. Import torch/triton (``TRITON_INTERPRET=1`` first on CPU), capture the functions it compares
   with, and wrap Triton's launch entry point (interpreter: ``InterpretedFunction.run``;
   compiled: ``JITFunction.run``) to record which kernels start, and from which file.
4. Load the problem, build ``Model`` from the seed, and for every trial draw seeded inputs, keep
   pristine numpy copies, run the reference and keep its outputs as numpy. Reference output
   tensors are overwritten with NaN before they are freed, so an answer that returns
   uninitialised memory (``torch.empty``) cannot find the reference's result there.
5. Only now import the answer, build ``ModelNew`` from the same seed, and run each trial on
   fresh copies of the inputs: launches counted per forward, output type/shape/dtype/values
   checked, inputs compared with their pristine copies (in-place mutation), and an output that
   matches *another* trial's reference is reported as a cached result.
6. On CUDA and when every trial passed: CUDA-event timing and a profiler pass for coverage
   (``harness_cuda.py``).

Each report is one line ``<nonce> <json>``: ``{"stage": ...}`` markers while it runs (so a
timed-out run still says how far it got), then ``{"result": {...}}``.

One file on purpose (a little over 400 lines): it is copied into the sandbox and run alone, so
splitting it would only add files that must travel together.
"""

import json
import os
import sys
import time
import traceback

T_START = time.perf_counter()
ANSWER_FILE = "answer.py"
PROBLEM_FILE = "problem.py"


class Reporter:
    """Writes ``<nonce> <json>`` lines to a private copy of the original stdout."""

    def __init__(self, nonce):
        self.nonce = nonce
        self.fd = os.dup(1)
        os.dup2(2, 1)  # from here on, print() of anyone but the reporter goes to stderr

    def send(self, payload):
        line = self.nonce + " " + json.dumps(payload, allow_nan=False, default=str) + "\n"
        data = line.encode()
        while data:
            written = os.write(self.fd, data)
            data = data[written:]

    def stage(self, name, **extra):
        self.send({"stage": name, "t": round(time.perf_counter() - T_START, 4), **extra})


def error_text(exc, limit=12):
    """The exception's last traceback lines, answer and problem frames kept, ours dropped."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    keep = [ln for ln in lines if "harness" not in ln.split("\n")[0]]
    text = "".join(keep).rstrip().splitlines()
    return "\n".join(text[-limit:])


def load_module(name, path):
    """Import a source file as a real module (Triton's ``@jit`` reads the function source)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class LaunchRecorder:
    """Counts Triton kernel launches, split into the answer's own kernels and all others.

    The hook is installed once per process on the launch entry point and reports to the
    recorder made last (so the in-process tests can build several)."""

    current = None

    def __init__(self, interpreted):
        self.records = []
        self.active = False
        self.answer_path = os.path.abspath(ANSWER_FILE)
        if interpreted:
            from triton.runtime.interpreter import InterpretedFunction as Launchable
        else:
            from triton.runtime.jit import JITFunction as Launchable
        if not getattr(Launchable.run, "turnrl_launch_hook", False):
            original = Launchable.run

            def run(self, *args, grid, warmup, **kwargs):
                recorder = LaunchRecorder.current
                if recorder is not None and recorder.active and not warmup:
                    recorder.record(self)
                return original(self, *args, grid=grid, warmup=warmup, **kwargs)

            run.turnrl_launch_hook = True
            Launchable.run = run
        LaunchRecorder.current = self

    def record(self, kernel):
        fn = getattr(kernel, "fn", None)
        code = getattr(fn, "__code__", None)
        where = os.path.abspath(code.co_filename) if code is not None else ""
        self.records.append((getattr(fn, "__name__", "?"), where == self.answer_path))

    def start(self):
        self.records = []
        self.active = True

    def stop(self):
        self.active = False
        own = [name for name, mine in self.records if mine]
        other = [name for name, mine in self.records if not mine]
        return own, other


class Snapshot:
    """A tensor's values as a numpy copy plus its torch dtype name (bfloat16 has no numpy
    twin: it is widened to float32 and keeps its name, which picks the tolerance)."""

    __slots__ = ("array", "dtype")

    def __init__(self, array, dtype):
        self.array = array
        self.dtype = dtype


def snapshot(torch, value, captured):
    """Copy a tensor out through functions captured before the answer ran. No torch buffer
    holding the values is freed unscrubbed: a temporary (a device or bfloat16 copy) is filled
    with NaN once copied, so ``torch.empty`` in an answer cannot find a reference result."""
    t = captured["to"](captured["detach"](value), "cpu")
    name = str(t.dtype).replace("torch.", "")
    if name == "bfloat16":
        t = captured["to"](t, torch.float32)
    array = captured["numpy"](t).copy()
    if t.data_ptr() != value.data_ptr() and (t.is_floating_point() or t.is_complex()):
        t.fill_(float("nan"))
    return Snapshot(array, name)


def fresh_tensor(torch, snap, captured):
    """A new CPU tensor equal to a snapshot, in its original dtype."""
    t = captured["from_numpy"](snap.array.copy())
    return captured["to"](t, getattr(torch, snap.dtype))


def flatten_output(torch, out, tensor_type):
    """A forward's result as a list of tensors, or a reason it is not tensors."""
    if type(out) is tensor_type:
        return [out], None
    if isinstance(out, (tuple, list)):
        items = list(out)
        bad = [type(x).__name__ for x in items if type(x) is not tensor_type]
        if not bad:
            return items, None
        return None, "returned a sequence holding " + ", ".join(sorted(set(bad)))
    if isinstance(out, tensor_type):
        return None, "returned a torch.Tensor subclass (" + type(out).__name__ + ")"
    return None, "returned " + type(out).__name__ + ", expected a torch.Tensor"


def tolerance(cfg, dtype_name):
    """(atol, rtol) for an output dtype: the configured table, else its ``default``."""
    table = cfg["tolerances"]
    atol, rtol = table.get(dtype_name, table["default"])
    return float(atol), float(rtol)


def compare(np, expected, got, cfg):
    """allclose as torch does it (``|out-ref| <= atol + rtol*|ref|``, NaN never close) with the
    tolerance of the reference output's dtype; shape and dtype must match exactly."""
    ref, ref_dtype, out, out_dtype = expected.array, expected.dtype, got.array, got.dtype
    if ref.shape != out.shape:
        return {"ok": False, "why": "shape", "expected_shape": list(ref.shape),
                "got_shape": list(out.shape)}
    if ref_dtype != out_dtype:
        return {"ok": False, "why": "dtype", "expected_dtype": ref_dtype, "got_dtype": out_dtype}
    atol, rtol = tolerance(cfg, ref_dtype)
    if ref.size == 0:
        return {"ok": True, "max_abs": 0.0, "max_rel": 0.0}
    # Uninitialised memory can hold signalling NaNs, whose widening raises "invalid"; they
    # are NaN all the same (never close), so every step runs with the flags silenced.
    # complex outputs compare as complex (|out-ref| is the modulus, as torch.allclose does):
    # widening them to float64 would drop the imaginary part and pass a wrong one
    wide = np.complex128 if ref.dtype.kind == "c" or out.dtype.kind == "c" else np.float64
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        r = ref.astype(wide)
        o = out.astype(wide)
        diff = np.abs(o - r)
        close = (o == r) | (diff <= atol + rtol * np.abs(r))
        diff = np.where(o == r, 0.0, diff)  # inf == inf: no difference (inf - inf is nan)
        diff = np.where(np.isnan(diff), np.inf, diff)
        rel = diff / np.maximum(np.abs(r), 1e-12)
        rel = np.where(np.isnan(rel), np.inf, rel)
    max_abs = float(diff.max())
    result = {"ok": bool(close.all()), "max_abs": _finite(max_abs),
              "max_rel": _finite(float(rel.max()))}
    if not result["ok"]:
        bad = np.argwhere(~close)
        first = tuple(int(i) for i in bad[0])
        result.update(why="values", mismatched=int(bad.shape[0]), total=int(close.size),
                      first_index=list(first), expected=_json_value(r[first]),
                      got=_json_value(o[first]))
    return result


def _json_value(x):
    """One element for the JSON verdict: a float, a ``[real, imag]`` pair for a complex one,
    non-finite parts as strings (JSON has no NaN or infinity)."""
    if isinstance(x, complex):  # numpy's complex128 is a complex
        return [_finite(float(x.real)), _finite(float(x.imag))]
    return _finite(float(x))


def _finite(x):
    return x if x == x and abs(x) != float("inf") else str(x)


def same_values(np, a, b):
    return a.array.shape == b.array.shape and a.dtype == b.dtype and bool(
        np.array_equal(a.array, b.array, equal_nan=a.array.dtype.kind in "fc"))


def new_result():
    return {"compiled": False, "correct": False, "decoy": False, "findings": [],
            "trials": [], "times": {}, "error": None, "error_stage": None}


def main():
    cfg = json.loads(sys.stdin.read())
    sys.stdin.close()
    report = Reporter(cfg["nonce"])
    if cfg.get("device", "cpu") == "cpu":
        os.environ["TRITON_INTERPRET"] = "1"  # before triton is imported
    os.environ["HOME"] = os.getcwd()  # caches (triton, torch) stay in the working directory
    os.environ.setdefault("TRITON_CACHE_DIR", os.path.join(os.getcwd(), ".triton"))
    result = new_result()
    try:
        run(cfg, report, result, own_process=True)
    except BaseException as exc:
        result["error"] = result["error"] or error_text(exc)
        result["error_stage"] = result["error_stage"] or "harness"
    result["times"]["total_s"] = round(time.perf_counter() - T_START, 4)
    report.send({"result": result})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown (answer atexit hooks, thread joins)


def run(cfg, report, result, own_process=False):
    """The evaluation proper (``main`` adds the process set-up; tests call this directly
    on trusted answers, in a working directory holding ``problem.py`` and ``answer.py``)."""
    times = result["times"]
    device = cfg.get("device", "cpu")
    t0 = time.perf_counter()
    import numpy as np
    import torch

    if own_process:
        torch.set_num_threads(max(1, int(cfg.get("threads", 1))))
    captured = {"detach": torch.Tensor.detach, "to": torch.Tensor.to,
                "numpy": torch.Tensor.numpy, "clone": torch.Tensor.clone,
                "tensor": torch.Tensor, "from_numpy": torch.from_numpy,
                "manual_seed": torch.manual_seed, "no_grad": torch.no_grad}
    recorder = LaunchRecorder(interpreted=os.environ.get("TRITON_INTERPRET") == "1")
    times["import_s"] = round(time.perf_counter() - t0, 4)
    report.stage("imported")

    # ---------------------------------------------------------------- reference
    t0 = time.perf_counter()
    seed = int(cfg.get("seed", 42))
    n_trials = int(cfg.get("trials", 5))
    try:
        problem = load_module("problem", PROBLEM_FILE)
        init_inputs = list(problem.get_init_inputs())
        captured["manual_seed"](seed)
        reference = problem.Model(*init_inputs)
        if device != "cpu":
            reference = reference.to(device)
        rng = torch.Generator().manual_seed(seed)
        trial_seeds = [int(torch.randint(0, 2**31 - 1, (1,), generator=rng)) for _ in
                       range(n_trials)]
        pristine, expected = [], []
        with captured["no_grad"]():
            for s in trial_seeds:
                captured["manual_seed"](s)
                inputs = list(problem.get_inputs())
                pristine.append([snapshot(torch, x, captured) if isinstance(x, torch.Tensor)
                                 else x for x in inputs])
                if device != "cpu":
                    inputs = [x.to(device) if isinstance(x, torch.Tensor) else x
                              for x in inputs]
                out = reference(*inputs)
                outs, why = flatten_output(torch, out, torch.Tensor)
                if outs is None:
                    raise TypeError("reference Model " + why)
                expected.append([snapshot(torch, o, captured) for o in outs])
                owned = {t.data_ptr() for t in (*reference.parameters(), *reference.buffers())}
                for o in outs:
                    if o.is_floating_point() and o.data_ptr() not in owned:
                        o.fill_(float("nan"))  # no stale reference result in freed memory
                del out, outs, inputs
    except BaseException as exc:
        result["error_stage"] = "reference"
        result["error"] = error_text(exc)
        raise
    times["reference_s"] = round(time.perf_counter() - t0, 4)
    report.stage("reference")

    trusted_cuda = None
    if device != "cpu":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import harness_cuda

        trusted_cuda = harness_cuda.capture(torch)

    # ---------------------------------------------------------------- the answer
    t0 = time.perf_counter()
    try:
        answer = load_module("answer", ANSWER_FILE)
        model_new = getattr(answer, "ModelNew", None)
        if model_new is None:
            raise NameError("the answer defines no class ModelNew")
        captured["manual_seed"](seed)
        candidate = model_new(*init_inputs)
        if device != "cpu":
            candidate = candidate.to(device)
    except BaseException as exc:
        result["error_stage"] = "compile"
        result["error"] = error_text(exc)
        times["compile_s"] = round(time.perf_counter() - t0, 4)
        return
    result["compiled"] = True
    times["compile_s"] = round(time.perf_counter() - t0, 4)
    report.stage("compiled")

    # ---------------------------------------------------------------- trials
    t0 = time.perf_counter()
    all_ok, decoy = True, False
    for i, snaps in enumerate(pristine):
        report.stage("trial", index=i)
        trial = {"index": i}
        result["trials"].append(trial)
        inputs = [fresh_tensor(torch, x, captured) if isinstance(x, Snapshot) else x
                  for x in snaps]
        if device != "cpu":
            inputs = [captured["to"](x, device) if isinstance(x, captured["tensor"]) else x
                      for x in inputs]
        try:
            recorder.start()
            with captured["no_grad"]():
                out = candidate(*inputs)
            if trusted_cuda is not None:
                trusted_cuda["synchronize"]()
        except BaseException as exc:
            recorder.stop()
            trial.update(ok=False, why="error", error=error_text(exc))
            all_ok = False
            result["error_stage"] = "trial"
            result["error"] = trial["error"]
            break
        own, other = recorder.stop()
        trial["launches"] = len(own)
        trial["kernels"] = sorted(set(own))
        trial["other_launches"] = len(other)
        if not own:
            decoy = True
        outs, why = flatten_output(torch, out, captured["tensor"])
        if outs is None:
            trial.update(ok=False, why="type", error="ModelNew.forward " + why)
            if "subclass" in why:
                _add(result, "lazy_tensor", "forward returned a torch.Tensor subclass")
            all_ok = False
            break
        got = [snapshot(torch, o, captured) for o in outs]
        want = expected[i]
        if len(got) != len(want):
            trial.update(ok=False, why="arity",
                         error=f"ModelNew.forward returned {len(got)} tensor(s), "
                               f"Model.forward returns {len(want)}")
            all_ok = False
            break
        checks = [compare(np, w, g, cfg) for w, g in zip(want, got, strict=True)]
        bad = [(k, c) for k, c in enumerate(checks) if not c["ok"]]
        trial["ok"] = not bad
        trial["max_abs"] = max((c.get("max_abs", 0.0) for c in checks
                                if isinstance(c.get("max_abs"), float)), default=0.0)
        if bad:
            k, c = bad[0]
            trial.update(output=k, **{key: v for key, v in c.items() if key != "ok"})
            for j, other_want in enumerate(expected):
                if j != i and len(other_want) == len(got) and all(
                        compare(np, w, g, cfg)["ok"]
                        for w, g in zip(other_want, got, strict=True)):
                    _add(result, "cached_output",
                         f"trial {i + 1} returned trial {j + 1}'s result")
                    break
            all_ok = False
        for k, (x, x0) in enumerate(zip(inputs, snaps, strict=False)):
            if isinstance(x0, Snapshot) and not same_values(np, snapshot(torch, x, captured), x0):
                _add(result, "input_mutation", f"forward changed input {k} in place "
                                               f"(trial {i + 1})")
        if bad:
            break
    result["decoy"] = decoy
    result["correct"] = all_ok and len(result["trials"]) == n_trials
    times["trials_s"] = round(time.perf_counter() - t0, 4)
    report.stage("trials")

    # ---------------------------------------------------------------- CUDA timing/profile
    if device != "cpu" and result["correct"] and cfg.get("timing", True):
        t0 = time.perf_counter()
        first = [captured["to"](fresh_tensor(torch, x, captured), device)
                 if isinstance(x, Snapshot) else x for x in pristine[0]]
        measured = harness_cuda.measure(torch, reference, candidate, first, recorder, cfg,
                                        trusted_cuda)
        if measured.pop("profiler_decoy", False):
            result["decoy"] = True
            _add(result, "profiler_decoy", "the profiler saw CUDA kernels but none of the "
                                           "answer's own Triton kernels")
        result.update(measured)
        times["timing_s"] = round(time.perf_counter() - t0, 4)


def _add(result, name, detail):
    if not any(f["name"] == name for f in result["findings"]):
        result["findings"].append({"name": name, "detail": detail})


if __name__ == "__main__":
    main()
