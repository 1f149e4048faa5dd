#!/usr/bin/env bash
# Install socklab and what a class hub's user servers need into one Python at PREFIX.
# The single place these steps live: `socklab hub` (one machine) runs this script, and so does
# the single-user image's Dockerfile (Kubernetes), so what CI tests is what the image gets.
#
#   deploy/image/install.sh PREFIX SOURCE [PYTHON]
#     PREFIX  where the Python goes (/opt/socklab-hub)
#     SOURCE  a socklab checkout or wheel (installed as a copy, never editable: user servers
#             must not need to read a checkout, whose solutions/ students must not see)
#     PYTHON  an interpreter every account can execute (default /usr/bin/python3)
set -euo pipefail
prefix=${1:?usage: install.sh PREFIX SOURCE [PYTHON]}
source=${2:?usage: install.sh PREFIX SOURCE [PYTHON]}
python=${3:-/usr/bin/python3}

[ -x "$prefix/bin/python" ] || "$python" -m venv "$prefix"
pip=("$prefix/bin/python" -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" --upgrade "${source}[hub]"
# Re-install socklab itself even when its version number did not change.
"${pip[@]}" --no-deps --force-reinstall "$source"
chmod -R a+rX "$prefix"
