# kernel environment: answers run in the bwrap sandbox (the sandbox part's script installs it
# too; apt-get is idempotent, so the kernel tests do not depend on script order)
$SUDO apt-get install -y --no-install-recommends bubblewrap >/dev/null
