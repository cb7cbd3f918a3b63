#!/usr/bin/env bash
# Runs a command with Node 22 first on PATH (installed from the npm registry when the system Node is older)
# and the project's node_modules/.bin after it.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
nodebin="$(bash "$here/scripts/node22.sh")"
export PATH="$nodebin:$here/node_modules/.bin:$PATH"
exec "$@"
