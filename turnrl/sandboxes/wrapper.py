"""The POSIX shell script that runs inside an isolating sandbox (``bwrap`` and ``docker``) around
the program.

It is the only thing between the sandbox boundary and the untrusted program, and it is short on
purpose (``sh``, ``timeout``, ``prlimit``, ``tar``, ``head`` and ``sed``: all in a Debian
minbase root and on any Linux host). In order:

1. optionally wipe the working directory and ``/tmp`` (a reused Docker container);
2. unpack input files: a tar file (``file:PATH``, a bwrap session's directory) or the first
   ``N`` bytes of stdin (``stdin:N``, Docker, where stdin is the only way in); the rest of stdin
   is the program's;
3. in ``file`` report mode, write ``S`` to the report: the sandbox is set up;
4. run the program — under ``timeout -s KILL`` when given seconds (a session or a container
   must survive the program's time-out; otherwise the host's deadline kills the whole sandbox)
   and after ``prlimit`` when the caller puts it first; the report descriptor is closed for it;
5. ``kill -s KILL -- -1``: every process the program left behind (daemons, forked children)
   dies before anything is read back — nothing outlives the run;
6. report ``X<exit status> <oom>`` (``oom`` is 1 when the memory cgroup's ``oom_kill`` counter
   moved during the run) and then, when asked, a tar stream of the fetched paths (or of the
   whole working directory for a session).

Arguments: ``input fetch seconds report oomfile clean [names...] command...`` (``seconds`` 0:
no time-out of its own; ``command`` may start with ``prlimit OPTIONS --``):
``input`` is ``none``, ``file:PATH`` or ``stdin:N``; ``fetch`` is ``none``, ``all`` or
``list:K`` followed by ``K`` names; ``report`` is a file path (bound in from the host) or
``stderr:MARKER`` (the report follows ``MARKER`` at the end of stderr, where Docker has no
other channel); ``oomfile`` is ``auto`` (the container's own cgroup file) or ``-``; ``clean``
is ``1`` or ``0``. The program runs as the same user and could write to the report; all it can
spoil that way is its own run's result.
"""

from __future__ import annotations

from turnrl.sandboxes.api import WORKDIR

SCRIPT = r"""input=$1; fetch=$2; seconds=$3; report=$4; oomf=$5; clean=$6; shift 6
cd /sandbox || exit 125
names=/tmp/.turnrl-fetch
if [ "$clean" = 1 ]; then
  rm -rf ./* ./.[!.]* ./..?* /tmp/* /tmp/.[!.]* /tmp/..?* /dev/shm/* 2>/dev/null
fi
case "$fetch" in
  list:*) n=${fetch#list:}; : >"$names"
    while [ "$n" -gt 0 ]; do printf '%s\n' "$1" >>"$names"; shift; n=$((n - 1)); done ;;
esac
case "$input" in
  file:*) tar -xif "${input#file:}" >/dev/null 2>&1 ;;
  stdin:*) head -c "${input#stdin:}" | tar -xf - >/dev/null 2>&1 ;;
esac || { echo "turnrl sandbox: could not unpack the input files" >&2; exit 125; }
case "$report" in
  stderr:*) marker=${report#stderr:}; exec 3>&2 ;;
  *) marker=; exec 3>>"$report"; printf S >&3 ;;
esac
if [ "$oomf" = auto ]; then
  oomf=-
  for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do
    if [ -r "$f" ]; then oomf=$f; break; fi
  done
fi
ooms() { [ "$oomf" = - ] || sed -n 's/^oom_kill //p' "$oomf" 2>/dev/null; }
before=$(ooms)
if [ "$seconds" = 0 ]; then "$@" 3>&-; else timeout -s KILL "$seconds" "$@" 3>&-; fi
rc=$?
kill -s KILL -- -1 2>/dev/null
oom=0
[ "$(ooms)" = "$before" ] || oom=1
[ -n "$marker" ] && printf '%sS' "$marker" >&3
printf 'X%d %d\n' "$rc" "$oom" >&3
case "$fetch" in
  all) tar -cf - . >&3 2>/dev/null ;;
  list:*) tar -cf - --ignore-failed-read -T "$names" >&3 2>/dev/null ;;
esac
exit "$rc"
"""
assert WORKDIR == "/sandbox"  # the script names it literally (it cds there and wipes it)


def wrapper_args(*, input_spec: str, fetch: tuple[str, ...] | None, seconds: float,
                 report: str, oomfile: str = "-", clean: bool = False) -> list[str]:
    """The wrapper's own arguments (before the command); ``fetch=None`` asks for the
    whole working directory, ``()`` for nothing."""
    if fetch is None:
        fetch_args = ["all"]
    elif fetch:
        fetch_args = [f"list:{len(fetch)}", *fetch]
    else:
        fetch_args = ["none"]
    return [input_spec, fetch_args[0], f"{seconds:.3f}", report, oomfile, "1" if clean else "0",
            *fetch_args[1:]]


def parse_report(report: bytes) -> tuple[bool, int | None, bool, bytes]:
    """``(started, exit status or None, oom, tar bytes)`` from the report's contents."""
    if not report.startswith(b"S"):
        return False, None, False, b""
    rest = report[1:]
    if not rest.startswith(b"X"):
        return True, None, False, b""
    line, _, tar_bytes = rest[1:].partition(b"\n")
    parts = line.split()
    try:
        return True, int(parts[0]), len(parts) > 1 and parts[1] == b"1", tar_bytes
    except (ValueError, IndexError):
        return True, None, False, b""
