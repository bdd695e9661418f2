#!/bin/sh
# The README's test command: a virtual environment with the dev extras, Debian's Chromium for the browser
# test (installed when missing and we are root), then the whole test suite.
#
#   sh scripts/test.sh [pytest arguments]
#
# VENV picks the virtual environment (default .venv; an already active one is used as it is).
set -eu
cd "$(dirname "$0")/.."

if [ -z "${VIRTUAL_ENV:-}" ]; then
    venv=${VENV:-.venv}
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    . "$venv/bin/activate"
fi
python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

sh scripts/install-chromium.sh

exec python -m pytest -q "$@"
