"""The POSIX shell script that runs inside an isolating sandbox around the program.

It is the only thing between the sandbox boundary and the untrusted program, and it is short on
purpose (``sh``, ``timeout``, ``prlimit`` and ``tar`` only, all present in a Debian minbase
root and on any Linux host). In order:

1. restore a session's working directory from the tar stream ``/.turnrl/restore`` (when asked);
2. write ``S`` to the report channel (``/.turnrl/report``, a host file bound read-write, opened
   as fd 3): the sandbox is set up, the program starts now;
3. run the program under ``timeout -s KILL`` (so the session survives its time-out) with its
   rlimits set by ``prlimit``, fd 3 closed for it;
4. ``kill -s KILL -- -1``: every process the program left behind (daemons, forked children)
   dies before anything is read back — nothing outlives the run;
5. write ``X<exit status>`` and then, when asked, a tar stream of the fetched paths (or of the
   whole working directory for a session) to fd 3.

Arguments: ``restore fetch seconds [prlimit options...] -- program...``; ``restore`` is
``1``/``0``, ``fetch`` is ``none``, ``all`` or ``list`` (names in ``/.turnrl/fetch``, one a
line). The host reads the report only after the sandbox has exited. The program can write to
it too (same user; its own ``RLIMIT_FSIZE`` caps that): all it could do is spoil its own run's
report.
"""

from __future__ import annotations

SCRIPT = r"""restore=$1; fetch=$2; seconds=$3; shift 3
if [ "$restore" = 1 ]; then
  tar -xif /.turnrl/restore >/dev/null 2>&1 || {
    echo "turnrl sandbox: could not restore the session's working directory" >&2; exit 125; }
fi
exec 3>>/.turnrl/report
printf S >&3
timeout -s KILL "$seconds" prlimit "$@" 3>&-
rc=$?
kill -s KILL -- -1 2>/dev/null
printf 'X%d\n' "$rc" >&3
case "$fetch" in
  all) tar -cf - . >&3 2>/dev/null ;;
  list) tar -cf - --ignore-failed-read -T /.turnrl/fetch >&3 2>/dev/null ;;
esac
exit "$rc"
"""


def parse_report(report: bytes) -> tuple[bool, int | None, bytes]:
    """``(started, exit status or None, tar bytes)`` from the fd-3 channel's contents."""
    if not report.startswith(b"S"):
        return False, None, b""
    rest = report[1:]
    if not rest.startswith(b"X"):
        return True, None, b""
    line, _, tar_bytes = rest[1:].partition(b"\n")
    try:
        return True, int(line), tar_bytes
    except ValueError:
        return True, None, b""
