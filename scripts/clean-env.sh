# Sourced by the install scripts: `clean_env [NAME=value…] command…` runs a command with only the
# environment a nested `npm install` needs. An outer `npm test` (on the system Node) exports its own
# state to its children: npm_config_user_agent naming that Node (code-server's postinstall reads it and
# refuses anything but v22), npm_config_nodedir/npm_config_node_gyp of that Node, npm_lifecycle_*,
# npm_package_*, INIT_CWD, NODE, NODE_OPTIONS, and node_modules/.bin and node-gyp-bin folders on PATH.
# A nested npm would take all of that as its own configuration. What is kept: who and where the user
# is (HOME, USER, locale, terminal), how to reach the registry (proxy variables, CA bundles), and PATH
# without the folders an npm run put on it. The nested npm still reads the user's and the global npmrc.
# The NAME=value arguments are set after the cleaning (PATH among them replaces the cleaned PATH).

clean_path() {
  local IFS=: dir kept=()
  for dir in $PATH; do
    case "$dir" in
      "" | */node_modules/.bin | */node-gyp-bin) continue ;;
    esac
    kept+=("$dir")
  done
  printf '%s' "${kept[*]}"
}

clean_env() {
  local name kept=()
  for name in HOME USER LOGNAME SHELL TERM LANG LANGUAGE TZ \
    http_proxy https_proxy no_proxy all_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY ALL_PROXY \
    NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR; do
    [ -n "${!name+set}" ] && kept+=("$name=${!name}")
  done
  while IFS= read -r name; do
    kept+=("$name=${!name}")
  done < <(compgen -e | grep '^LC_' || true)
  env -i "${kept[@]}" "PATH=$(clean_path)" "$@"
}
