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
with the expected ones on the host, where the answer cannot reach them. Asserts cannot be: they
run here, so every comparison and truth test in them is rewritten to check first that its
operands compare with trusted code (see "honest asserts" below).

The spec: ``{"format": "stdio"|"call"|"assert", "nonce": str, "timeout": float,
"output_limit": int, "preamble": str, "fn_name": str, "entry_point": str, "inputs": [...],
"steps": [{"code": str, "test": bool}]}``.
"""

import ast
import contextlib
import io
import json
import operator
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


# ------------------------------------------------------------------ honest asserts
# An assert runs in the answer's process, so the answer's own objects decide ``==``, ``<``,
# ``in`` and truth: a returned object whose ``__eq__`` always holds passed every
# ``assert candidate(x) == y``. Test statements are rewritten so that every comparison and
# truth test first checks that its operands compare with trusted code (builtin, collections,
# fractions, decimal or numpy methods, found through the type's MRO, containers checked item
# by item), then compares with the operator module.
_HOOKS = ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__len__",
          "__contains__", "__iter__")
_TRUSTED_MODULES = ("builtins", "collections", "fractions", "decimal", "datetime")
_COMPARE = {"Eq": operator.eq, "NotEq": operator.ne, "Lt": operator.lt, "LtE": operator.le,
            "Gt": operator.gt, "GtE": operator.ge, "Is": operator.is_, "IsNot": operator.is_not,
            "In": lambda a, b: operator.contains(b, a),
            "NotIn": lambda a, b: not operator.contains(b, a)}
"""The comparison each ``ast`` operator class (by name) stands for."""


class Dishonest(AssertionError):
    """An operand whose comparison or truth is the answer's own code."""


PROBLEM_FILE = "<problem-" + os.urandom(8).hex() + ">"
"""The file name the preamble and the tests are compiled under: their classes' methods are
the problem's own, trusted (an answer would have to find this name to pose as them)."""


def _trusted_hooks(kind):
    for hook in _HOOKS:
        for klass in kind.__mro__:
            if hook not in vars(klass):
                continue
            method = vars(klass)[hook]
            code = getattr(method, "__code__", None)
            module = getattr(klass, "__module__", "") or ""
            library = module in _TRUSTED_MODULES or module.startswith("numpy")
            if code is not None:  # Python code: the problem's, a library's file, or the answer's
                home = getattr(sys.modules.get(module), "__file__", None)
                if code.co_filename != PROBLEM_FILE and not (library and
                                                             code.co_filename == home):
                    return False
            elif method is not None and not library:
                return False
            break
    return True


_SCALARS = frozenset({bool, int, float, complex, str, bytes, type(None)})
"""Builtin types whose methods nothing can patch: checked without a look at their MRO."""
_SEQUENCES = (list, tuple, set, frozenset)
_BUILTIN_CONTAINERS = frozenset({*_SEQUENCES, dict})


def _check_honest(value, depth=0):
    kind = type(value)
    if kind in _SCALARS:
        return
    if depth > 100 or (kind not in _BUILTIN_CONTAINERS and not _trusted_hooks(kind)):
        raise Dishonest("the answer's " + kind.__name__ + " decides its own comparisons")
    if isinstance(value, dict):
        items = [*dict.keys(value), *dict.values(value)]
    elif isinstance(value, _SEQUENCES):
        base = next(b for b in _SEQUENCES if isinstance(value, b))
        items = list(base.__iter__(value))  # the base's own iteration, not an override
    else:
        return
    if {type(item) for item in items} <= _SCALARS:  # the common case: fast, no recursion
        return
    for item in items:
        _check_honest(item, depth + 1)


def _honest_compare(left, names, rights):
    _check_honest(left)
    for name, right in zip(names, rights):  # noqa: B905 -- runs on Python 3.8 (no strict=)
        _check_honest(right)
        if not _COMPARE[name](left, right):
            return False
        left = right
    return True


def _honest_truth(value):
    _check_honest(value)
    return bool(value)


class _HonestAsserts(ast.NodeTransformer):
    """``a == b`` -> ``__turnrl_compare__(a, ('Eq',), [b])``; ``not x``, ``x and y`` and an
    assert's test go through ``__turnrl_truth__``. Chained comparisons evaluate every operand
    (tests do not rely on their short-circuit)."""

    def _call(self, name, args, like):
        return ast.copy_location(ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args,
                                          keywords=[]), like)

    def visit_Compare(self, node):
        self.generic_visit(node)
        names = ast.Tuple(elts=[ast.Constant(value=type(op).__name__) for op in node.ops],
                          ctx=ast.Load())
        rights = ast.List(elts=node.comparators, ctx=ast.Load())
        return self._call("__turnrl_compare__", [node.left, names, rights], node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            node.operand = self._call("__turnrl_truth__", [node.operand], node.operand)
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        node.values = [self._call("__turnrl_truth__", [v], v) for v in node.values]
        return node

    def visit_Assert(self, node):
        self.generic_visit(node)
        node.test = self._call("__turnrl_truth__", [node.test], node.test)
        return node


def _compile_test(source):
    tree = _HonestAsserts().visit(ast.parse(source, PROBLEM_FILE))
    return compile(ast.fix_missing_locations(tree), PROBLEM_FILE, "exec")


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
            code = _compile_test(step["code"]) if step["test"] else _compile(step["code"],
                                                                               PROBLEM_FILE)
            # set before every statement: the answer's module-level code could rebind them
            namespace.update(__turnrl_compare__=_honest_compare, __turnrl_truth__=_honest_truth)
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
    preamble = _compile(spec["preamble"], PROBLEM_FILE) if spec.get("preamble") else None
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
