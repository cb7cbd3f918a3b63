#!/usr/bin/env bash
# Installs code-server (the real VS Code workbench and extension host, from the npm registry) into a
# cache outside the clone and prints its folder. Skips the install when it is already there.
# Needs: Node 22 (scripts/node22.sh), build headers for native modules, Debian's ripgrep. The install
# runs in a cleaned environment (scripts/clean-env.sh), so it behaves the same inside `npm test`.
set -euo pipefail
version="${CODE_SERVER_VERSION:-4.117.0}"
here="$(cd "$(dirname "$0")" && pwd)"
cache="${SOFTWARE_MAKER_CACHE:-$HOME/.cache/software-maker}"
target="$cache/code-server-$version"
if [ -f "$target/node_modules/code-server/out/node/entry.js" ] && [ -f "$target/.installed" ]; then
  echo "$target/node_modules/code-server"; exit 0
fi
nodebin="$(bash "$here/node22.sh")"
nodedir="$(dirname "$nodebin")"
command -v rg >/dev/null || { echo "ripgrep (rg) is required: apt-get install -y ripgrep" >&2; exit 1; }
rm -rf "$target"; mkdir -p "$target/tmp"
echo '{"name":"code-server-cache","private":true}' > "$target/package.json"
# @vscode/ripgrep's postinstall downloads rg from GitHub; seed its cache with Debian's rg instead.
# The cache folder and file names come from that package's lib/postinstall.js and lib/download.js.
case "$version" in
  4.117.*) rg_pkg=1.17.1; rg_ver=v15.0.1 ;;
  4.100.*) rg_pkg=1.15.11; rg_ver=v13.0.0-10 ;;
  *) echo "unknown ripgrep pin for code-server $version" >&2; exit 1 ;;
esac
seed="$target/tmp/vscode-ripgrep-cache-$rg_pkg"
mkdir -p "$seed" "$target/tmp/rgbin"
cp "$(command -v rg)" "$target/tmp/rgbin/rg"
tar -czf "$seed/ripgrep-$rg_ver-x86_64-unknown-linux-musl.tar.gz" -C "$target/tmp/rgbin" rg
# clean_env: an outer `npm test` on the system Node must not configure this npm (see clean-env.sh).
# shellcheck source=clean-env.sh
source "$here/clean-env.sh"
(
  cd "$target"
  clean_env PATH="$nodebin:$(clean_path)" TMPDIR="$target/tmp" npm_config_yes=true npm_config_nodedir="$nodedir" \
    npm install --unsafe-perm --save-exact --no-audit --no-fund --loglevel=error "code-server@$version" >&2
)
rm -rf "$target/tmp"
touch "$target/.installed"
echo "$target/node_modules/code-server"
