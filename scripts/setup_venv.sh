#!/usr/bin/env bash
# Builds .venv from requirements/dev.lock, exactly: the locked uv is bootstrapped with pip (its
# hashes checked), then `uv pip sync` installs the locked set (hashes required) and removes
# anything else, then the project itself goes in editable, with no dependency resolution.
# Nothing here resolves versions: that is `make lock`'s job alone.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
LOCK=requirements/dev.lock
started=$EPOCHREALTIME
[[ -x $VENV/bin/python ]] || "$PYTHON" -m venv "$VENV"
# uv's own entry in the lock (name line through its last hash) is the bootstrap requirement.
bootstrap=$(mktemp)
trap 'rm -f "$bootstrap"' EXIT
awk '/^uv==/{p=1} p{print} p&&!/\\$/{exit}' "$LOCK" >"$bootstrap"
[[ -s $bootstrap ]] || { echo "setup: no uv entry in $LOCK; run 'make lock'" >&2; exit 1; }
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
    -r "$bootstrap"
export VIRTUAL_ENV=$PWD/$VENV
"$VENV/bin/uv" pip sync --quiet --require-hashes "$LOCK"
"$VENV/bin/uv" pip install --quiet --no-deps --no-build-isolation -e .
awk -v a="$started" -v b="$EPOCHREALTIME" -v v="$VENV" -v l="$LOCK" \
    'BEGIN { printf "setup: %s installed from %s in %.1f s\n", v, l, b - a }' 
