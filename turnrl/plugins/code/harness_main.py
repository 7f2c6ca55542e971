"""The test harness that runs *inside* the sandbox: one process runs every test of one answer.

Not imported by turnrl: its source is shipped into the sandbox as ``main.py`` next to the
answer (``solution.py``) and run with the sandbox's Python (3.8+, standard library only). It
reads the test spec from stdin to the end before the answer runs (a ``spec.json`` next to the
answer let it read the asserts' expected values and the report's nonce). For each test it
executes the answer afresh with the test's stdin (file descriptors 0 and 1 redirected, so
``os.write(1, ...)`` is captured too), under a per-test wall-clock alarm whose exception is
a ``BaseException`` (``except Exception`` in the answer cannot swallow it). It reports *raw*
results — captured stdout, JSON of a returned value, or an assert's pass/fail — as one JSON
line after a per-run nonce on the original stdout; stdio and call-based outputs are compared
with the expected ones on the host, where the answer cannot reach them.

The spec: ``{"format": "stdio"|"call"|"assert", "nonce": str, "timeout": float,
"output_limit": int, "preamble": str, "fn_name": str, "entry_point": str, "inputs": [...],
"steps": [{"code": str, "test": bool}]}``.
"""

import contextlib
import io
import json
import os
import signal
import sys
import tempfile
import time
import traceback


class TestTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise TestTimeout()


def _tail(limit=8):
    lines = traceback.format_exc().strip().splitlines()
    return "\n".join(lines[-limit:])


class Redirected:
    """fds 0/1 point at temporary files for the duration of one test."""

    def __init__(self, stdin_bytes, limit):
        self.stdin_bytes = stdin_bytes
        self.limit = limit

    def __enter__(self):
        self.fin = tempfile.TemporaryFile()
        self.fout = tempfile.TemporaryFile()
        self.fin.write(self.stdin_bytes)
        self.fin.seek(0)
        sys.stdout.flush()
        self.saved = (os.dup(0), os.dup(1))
        os.dup2(self.fin.fileno(), 0)
        os.dup2(self.fout.fileno(), 1)
        self.old_streams = (sys.stdin, sys.stdout)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "rb", closefd=False))
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "wb", closefd=False), write_through=True)
        return self

    def output(self):
        self.fout.seek(0)
        return self.fout.read(self.limit + 1).decode("utf-8", "replace")

    def __exit__(self, *exc):
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        sys.stdin, sys.stdout = self.old_streams
        os.dup2(self.saved[0], 0)
        os.dup2(self.saved[1], 1)
        os.close(self.saved[0])
        os.close(self.saved[1])
        self.captured = self.output()
        self.fin.close()
        self.fout.close()
        return False


def _timed(seconds, fn, exit_ok=False):
    """``(status, value, error)`` of ``fn()`` under a wall-clock alarm.

    ``exit_ok``: ``sys.exit(0)`` is a normal end (a whole stdio program). Elsewhere — inside a
    called function or an assert — any ``SystemExit`` is an error: treating it as success let
    ``def f(): sys.exit(0)`` pass every assert. A run that ends well but late is a time-out
    too: an answer can catch the alarm's exception or stop the timer and carry on."""
    began = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        value = fn()
        if time.monotonic() - began > seconds:
            return "timeout", None, "time limit exceeded"
        return "ok", value, ""
    except TestTimeout:
        return "timeout", None, "time limit exceeded"
    except SystemExit as exc:
        code = exc.code
        if exit_ok and (code is None or code == 0):
            if time.monotonic() - began > seconds:
                return "timeout", None, "time limit exceeded"
            return "ok", None, ""
        return "error", None, f"SystemExit: {code!r}"
    except AssertionError:
        return "fail", None, _tail()
    except BaseException:
        return "error", None, _tail()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _compile(source, name):
    return compile(source, name, "exec")


def run_stdio(spec, program):
    results = []
    for data in spec["inputs"]:
        with Redirected(data.encode(), spec["output_limit"]) as io_:
            status, _, error = _timed(spec["timeout"],
                                      lambda: exec(program, {"__name__": "__main__"}),
                                      exit_ok=True)
        results.append({"status": status, "stdout": io_.captured, "error": error})
    return results


def _function(namespace, name):
    if callable(namespace.get(name)):
        return namespace[name]
    solution = namespace.get("Solution")
    if isinstance(solution, type) and hasattr(solution, name):
        return getattr(solution(), name)
    raise NameError(f"no function {name!r} (nor a Solution class with that method)")


def run_call(spec, program, preamble):
    results = []
    for data in spec["inputs"]:
        args = [json.loads(line) for line in data.split("\n") if line.strip()]
        namespace = {"__name__": "solution"}

        def call(namespace=namespace, args=args):
            if preamble is not None:
                exec(preamble, namespace)
            exec(program, namespace)
            return _function(namespace, spec["fn_name"])(*args)

        with Redirected(b"", spec["output_limit"]):
            status, value, error = _timed(spec["timeout"], call)
        entry = {"status": status, "error": error}
        if status == "ok":
            try:
                entry["value"] = json.dumps(value)
            except (TypeError, ValueError):
                entry["value"] = None
                entry["repr"] = repr(value)[:2000]
        results.append(entry)
    return results


def run_assert(spec, program, preamble):
    namespace = {"__name__": "solution"}

    def load():
        if preamble is not None:
            exec(preamble, namespace)
        exec(program, namespace)
        if spec.get("entry_point"):
            namespace["candidate"] = namespace[spec["entry_point"]]

    with Redirected(b"", spec["output_limit"]):
        status, _, error = _timed(spec["timeout"], load)
        results = []
        broken = "" if status == "ok" else (error or status)
        for step in spec["steps"]:
            if broken:
                if step["test"]:
                    results.append({"status": "error", "error": broken})
                continue
            code = _compile(step["code"], "<test>")
            state, _, error = _timed(spec["timeout"], lambda c=code: exec(c, namespace))
            if not step["test"]:
                if state != "ok":
                    broken = "test setup failed: " + error
                continue
            results.append({"status": "pass" if state == "ok" else state, "error": error})
    return results


def main():
    spec = json.loads(sys.stdin.buffer.read())
    nonce = spec.pop("nonce")
    with open("solution.py") as handle:
        source = handle.read()
    report_fd = os.dup(1)
    signal.signal(signal.SIGALRM, _alarm)
    preamble = _compile(spec["preamble"], "<preamble>") if spec.get("preamble") else None
    try:
        program = _compile(source, "solution.py")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        report = {"compile_error": _tail(4)}
    else:
        runner = {"stdio": lambda: run_stdio(spec, program),
                  "call": lambda: run_call(spec, program, preamble),
                  "assert": lambda: run_assert(spec, program, preamble)}[spec["format"]]
        report = {"results": runner()}
    os.write(report_fd, ("\n" + nonce + json.dumps(report) + "\n").encode())


if __name__ == "__main__":
    main()
