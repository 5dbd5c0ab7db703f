#!/usr/bin/env bash
# The entry point of the README's two commands: `npm run demo` and `npm test`.
# Installs pnpm 12.4.2 when it is missing, installs the workspace from the lockfile, builds every
# package (turbo caches), then runs the demo or the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/env.sh

want=12.4.2
if [ "$(pnpm --version 2>/dev/null || true)" != "$want" ]; then
  if [ "$(.tools/node_modules/.bin/pnpm --version 2>/dev/null || true)" != "$want" ]; then
    echo "Installing pnpm $want into .tools/ ..."
    npm install --silent --no-audit --no-fund --prefix .tools "pnpm@$want" >/dev/null
  fi
  export PATH="$root/.tools/node_modules/.bin:$PATH"
fi

pnpm install --frozen-lockfile --reporter=silent
pnpm exec turbo run build --output-logs=errors-only

case "${1:-}" in
  demo) shift; exec pnpm --filter @mem/examples run quickstart "$@" ;;
  test)
    shift
    # The PostgreSQL stores' tests need PostgreSQL 15 + pgvector; install them when missing and
    # possible (root on Debian). Otherwise those tests skip, and say why.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      bash scripts/install-postgres.sh || echo "PostgreSQL 15 + pgvector could not be installed; their tests will skip." >&2
    fi
    exec node scripts/test.mjs "$@" ;;
  *) echo "usage: scripts/run.sh demo|test" >&2; exit 2 ;;
esac
