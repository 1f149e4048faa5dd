# Sourced by .ci/run: a non-root user, and a Python it can run, for the tests that must run as an
# ordinary student would (namespace tier). Exports SOCKLAB_NONROOT_USER and SOCKLAB_NONROOT_PYTHON.
# Idempotent: a second run on the same machine only re-checks.
SOCKLAB_NONROOT_USER=socklab-student
id -u "$SOCKLAB_NONROOT_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$SOCKLAB_NONROOT_USER"
# Debian's /usr/bin/python3, not the pyenv one under /root, which other users cannot execute.
nonroot_venv=/opt/socklab-nonroot-venv
if [ ! -x "$nonroot_venv/bin/python" ]; then
    /usr/bin/python3 -m venv "$nonroot_venv"
fi
if ! "$nonroot_venv/bin/python" -c 'import scapy' 2>/dev/null; then
    "$nonroot_venv/bin/python" -m pip install --quiet --disable-pip-version-check 'scapy>=2.6' >/dev/null
fi
chmod -R a+rX "$nonroot_venv"
export SOCKLAB_NONROOT_USER SOCKLAB_NONROOT_PYTHON="$nonroot_venv/bin/python"
# Say early (without failing here) if this kernel refuses user namespaces to ordinary users; the
# namespace-tier tests then fail under SOCKLAB_STRICT=1 with the reason.
if ! runuser -u "$SOCKLAB_NONROOT_USER" -- unshare -rn true 2>/dev/null; then
    echo "nonroot.sh: warning: $SOCKLAB_NONROOT_USER cannot run 'unshare -rn'" \
         "(kernel.unprivileged_userns_clone / user.max_user_namespaces / AppArmor)" >&2
fi
