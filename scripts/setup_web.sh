#!/usr/bin/env bash
# Installs web/'s npm dependencies exactly as web/package-lock.json pins them (`npm ci`), for the
# browser-side ballot cryptography and its tests (docs/web.md). Needs node >= 20 and npm on PATH;
# fails saying so when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "setup_web: node >= 20 and npm are needed (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if (( major < 20 )); then
    echo "setup_web: node $(node --version) is too old; web/ needs node >= 20" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
