# Sourced by the browser tests (scripts/browser-test.sh, scripts/console-test.sh): makes sure
# Debian's chromium (apt-get, when root) and playwright-core (npm, into the git-ignored
# .tools/) are there, and sets CHROMIUM. Expects `say`, `die` and OUT (the log directory).
CHROMIUM="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$CHROMIUM" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "apt-get install chromium"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >"$OUT/apt.log" 2>&1 ||
      die "apt-get install chromium failed (see $OUT/apt.log)"
    CHROMIUM="$(command -v chromium)"
  else
    die "chromium is not installed (apt-get install chromium)"
  fi
fi
command -v node >/dev/null || die "node is required"
if [ ! -f .tools/node_modules/playwright-core/package.json ]; then
  say "npm install playwright-core into .tools/"
  mkdir -p .tools
  [ -f .tools/package.json ] || echo '{"private": true}' >.tools/package.json
  npm install --prefix .tools --no-audit --no-fund --silent playwright-core@1.65 >"$OUT/npm.log" 2>&1 ||
    die "npm install playwright-core failed (see $OUT/npm.log)"
fi
