# Sourced by .ci/run: a non-root user, and a Python it can run, for the tests that must run as an
# ordinary student would (namespace tier). Exports SOCKLAB_NONROOT_USER and SOCKLAB_NONROOT_PYTHON.
SOCKLAB_NONROOT_USER=socklab-student
id -u "$SOCKLAB_NONROOT_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$SOCKLAB_NONROOT_USER"
nonroot_venv=/opt/socklab-nonroot-venv
if [ ! -x "$nonroot_venv/bin/python" ]; then
    /usr/bin/python3 -m venv "$nonroot_venv"
fi
"$nonroot_venv/bin/python" -m pip install --quiet --disable-pip-version-check scapy >/dev/null
chmod -R a+rX "$nonroot_venv"
export SOCKLAB_NONROOT_USER SOCKLAB_NONROOT_PYTHON="$nonroot_venv/bin/python"
