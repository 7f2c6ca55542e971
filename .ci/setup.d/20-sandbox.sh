# Sandboxes (issue 12): bubblewrap for the default `bwrap` backend, a real Docker engine for the
# `docker` backend, and the sandbox image built from Debian packages (no registry needed).
# Sourced by .ci/run (bash, set -euo pipefail; $SUDO, on_exit and $ROOT come from there).
#
# dockerd is started so that it leaves the host's networking alone: no bridge, no iptables
# rules, no masquerading, no IP forwarding (without these flags it rewrites iptables and turns
# forwarding on). It gets its own socket, data root and PID file, so an engine the machine
# already runs is neither used nor disturbed, and it is stopped by its PID when CI ends.
# Storage: overlay2 (cold `docker run` ~1 s); vfs only if overlay2 fails, and we say so.
# The tests are told that bwrap and Docker are required here: a sandbox that cannot start
# fails its tests instead of skipping them.

$SUDO apt-get install -y --no-install-recommends bubblewrap docker.io debootstrap >/dev/null

TURNRL_DOCKER_DIR=/run/turnrl-docker
TURNRL_DOCKER_SOCK=unix://$TURNRL_DOCKER_DIR/docker.sock
$SUDO mkdir -p "$TURNRL_DOCKER_DIR"

turnrl_start_dockerd() {  # $1 = storage driver; returns 0 once the engine answers
    local driver=$1 group_flag=()
    [ "$(id -u)" = 0 ] || group_flag=(--group "$(id -gn)")
    # shellcheck disable=SC2024  # the log is ours to write
    $SUDO dockerd --host="$TURNRL_DOCKER_SOCK" --data-root=/var/lib/turnrl-docker \
        --exec-root="$TURNRL_DOCKER_DIR/exec" --pidfile="$TURNRL_DOCKER_DIR/dockerd.pid" \
        --bridge=none --iptables=false --ip-masq=false --ip-forward=false \
        --storage-driver="$driver" "${group_flag[@]}" \
        >"$TURNRL_DOCKER_DIR/dockerd-$driver.log" 2>&1 &
    local i
    for i in $(seq 1 60); do
        if docker -H "$TURNRL_DOCKER_SOCK" info >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    return 1
}

turnrl_stop_dockerd() {
    local pid
    pid=$($SUDO cat "$TURNRL_DOCKER_DIR/dockerd.pid" 2>/dev/null) || return 0
    $SUDO kill "$pid" 2>/dev/null || return 0
    local i
    for i in $(seq 1 30); do
        $SUDO kill -0 "$pid" 2>/dev/null || return 0
        sleep 1
    done
    $SUDO kill -9 "$pid" 2>/dev/null || true
}

if turnrl_start_dockerd overlay2; then
    echo ".ci/setup.d/20-sandbox: dockerd up (overlay2) on $TURNRL_DOCKER_SOCK"
else
    echo ".ci/setup.d/20-sandbox: overlay2 failed (log below); falling back to vfs," \
         "which is much slower (cold container ~6-9 s instead of ~1 s)" >&2
    tail -n 5 "$TURNRL_DOCKER_DIR/dockerd-overlay2.log" >&2 || true
    turnrl_stop_dockerd
    turnrl_start_dockerd vfs || { echo ".ci/setup.d/20-sandbox: dockerd did not start" >&2
                                  tail -n 20 "$TURNRL_DOCKER_DIR/dockerd-vfs.log" >&2; exit 1; }
fi
on_exit "turnrl_stop_dockerd"
export DOCKER_HOST=$TURNRL_DOCKER_SOCK

# the image: `turnrl sandbox build` needs only the docker SDK and turnrl's light dependencies,
# installed here ahead of the README's install command (which installs them again, no-op)
python -m pip install --quiet "docker>=7" "pydantic>=2.6" "pyyaml>=6" "pluggy>=1.5" \
    "aiohttp>=3.9" "rich>=13"
$SUDO env DOCKER_HOST="$DOCKER_HOST" PYTHONPATH="$ROOT" "$(command -v python)" -m turnrl.cli \
    sandbox build

export TURNRL_REQUIRE_BWRAP=1 TURNRL_REQUIRE_DOCKER=1
