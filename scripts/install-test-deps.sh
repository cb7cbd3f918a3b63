#!/usr/bin/env bash
# Installs what the e2e and extension-host suites need on Debian/Ubuntu (see docs in
# test/harness/codeServer.ts): Chromium and ripgrep for the tests, build headers for code-server's
# native modules, npm for the Node 22 toolchain; then code-server itself (scripts/install-code-server.sh).
# apt runs only when something is missing (one `apt-get update`), and only as root; otherwise it says
# what to install. Usage: bash scripts/install-test-deps.sh [--apt-only]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
packages=(ca-certificates git chromium ripgrep build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)
# scripts/node22.sh fetches Node 22 with npm; Debian's npm is enough for that.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
  [ "$status" = "installed" ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "System test packages present."
fi

[ "${1:-}" = "--apt-only" ] && exit 0
dir="$(bash "$here/install-code-server.sh")"
echo "code-server: $dir"
