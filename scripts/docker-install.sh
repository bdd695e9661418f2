#!/bin/sh
# Build TuneOps into a wheel and install it, with its runtime dependencies only, into a fresh virtual
# environment. The Dockerfile's builder stage runs this, and so does tests/test_ops_docker.py, so the image's
# install steps are exercised without a Docker engine.
#
#   sh scripts/docker-install.sh SOURCE_DIR VENV_DIR
#
# PYTHON picks the interpreter (default python3).
set -eu

src=${1:?usage: docker-install.sh SOURCE_DIR VENV_DIR}
venv=${2:?usage: docker-install.sh SOURCE_DIR VENV_DIR}
python=${PYTHON:-python3}
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT

"$python" -m venv "$venv"
# --no-deps: only the project's own wheel here; its dependencies come from the install below.
"$venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$wheels" "$src"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheels"/tuneops-*.whl
"$venv/bin/tuneops" --help >/dev/null
