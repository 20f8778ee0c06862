#!/usr/bin/env bash
# Refreshes the lock files on purpose (`make lock`): resolves pyproject.toml's ranges and
# requirements/build.in to the newest releases and writes exact versions with hashes.
#   requirements/dev.lock      runtime + dev tools + installers: `make setup` installs exactly this
#   requirements/runtime.lock  runtime + installers, the same versions: the image installs this
# Then regenerates proto/ with the locked grpcio-tools. Nothing else ever rewrites the locks.
# Upgrade one package only: scripts/lock.sh --upgrade-package grpcio (any uv pip compile option).
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.venv/bin/uv}
common=(--quiet --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28
        --custom-compile-command "make lock")
if [[ $# -eq 0 ]]; then set -- --upgrade; fi
"$UV" pip compile "${common[@]}" "$@" pyproject.toml requirements/build.in --extra dev \
    -o requirements/dev.lock
# The runtime set is the dev set's versions, restricted to what the runtime needs.
"$UV" pip compile "${common[@]}" pyproject.toml requirements/build.in \
    -c requirements/dev.lock -o requirements/runtime.lock
echo "lock: wrote requirements/dev.lock and requirements/runtime.lock; now 'make setup proto' and 'make test'"
