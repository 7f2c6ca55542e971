"""Sandboxes: run untrusted programs (model answers, generated kernels) with real isolation.

``make_sandbox(name, **options)`` builds a backend registered through the
``turnrl_register_sandboxes`` hook; every backend answers the same ``run`` and ``session``
calls and returns an ``ExecResult`` (see ``api.py``). Built-in backends: ``bwrap`` (default:
Linux namespaces, no daemon), ``docker`` (a real Docker engine with a warm pool),
``sandbox-fusion`` (a remote SandboxFusion server) and ``local`` (no isolation: trusted code
only). ``turnrl sandbox serve`` serves SandboxFusion's ``/run_code`` API on top of any backend.
"""

from turnrl.sandboxes.api import (
    STATUSES,
    TORCH_LIMITS,
    WORKDIR,
    ExecResult,
    Limits,
    Sandbox,
    SandboxUnavailable,
    SandboxUsageError,
    Session,
    Status,
    make_sandbox,
)

__all__ = [
    "STATUSES",
    "TORCH_LIMITS",
    "WORKDIR",
    "ExecResult",
    "Limits",
    "Sandbox",
    "SandboxUnavailable",
    "SandboxUsageError",
    "Session",
    "Status",
    "make_sandbox",
]
