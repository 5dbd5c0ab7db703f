#!/usr/bin/env bash
# The entry point of the README's two commands: `npm run demo` and `npm test`.
# Installs pnpm 12.4.2 when it is missing (scripts/pnpm.sh), installs the workspace from the
# lockfile, builds every package (turbo caches; one line per package), then runs the demo or the
# whole test suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pnpm=(bash scripts/pnpm.sh)

echo "Installing the workspace (pnpm install; the first time compiles better-sqlite3 and takes a few minutes) ..."
"${pnpm[@]}" install --frozen-lockfile --reporter=silent
echo "Building every package (turbo: a line as each package starts; 'cache hit' ones are unchanged) ..."
if ! "${pnpm[@]}" exec turbo run build --output-logs=hash-only; then
  # hash-only hides the compiler's output: run again to show it (finished packages replay from the cache).
  echo "The build failed; its output:" >&2
  "${pnpm[@]}" exec turbo run build --output-logs=errors-only
  exit 1
fi

case "${1:-}" in
  demo) shift; exec "${pnpm[@]}" --filter @mem/examples run quickstart "$@" ;;
  test)
    shift
    # The PostgreSQL stores' tests need PostgreSQL 15 + pgvector; install them when missing and
    # possible (root on Debian). Otherwise those tests skip, and say why.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      bash scripts/install-postgres.sh || echo "PostgreSQL 15 + pgvector could not be installed; their tests will skip." >&2
    fi
    exec "${pnpm[@]}" exec node scripts/test.mjs "$@" ;;
  *) echo "usage: scripts/run.sh demo|test" >&2; exit 2 ;;
esac
