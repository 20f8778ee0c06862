#!/usr/bin/env bash
# Regenerates the committed Python code under proto/ from proto/votestore/v1/*.proto.
# Run from anywhere; uses the project's .venv (or $PYTHON).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PY")
export PATH="$BIN:$PATH"
"$PY" -m grpc_tools.protoc -I . \
  --python_out=. --grpc_python_out=. --mypy_out=quiet:. --mypy_grpc_out=quiet:. \
  proto/votestore/v1/*.proto
# Messages-only files get empty service modules; they are not kept.
rm -f proto/votestore/v1/{election,ledger}_pb2_grpc.py{,i}
