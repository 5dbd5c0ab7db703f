#!/usr/bin/env bash
# Runs the pinned pnpm (12.4.2) with the environment every install, build and test needs here,
# installing it into .tools/ on first use. Behind every root `npm run …` command that needs pnpm,
# so nothing has to be on the caller's PATH: `npm run pnpm -- <arguments>` runs any pnpm command.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"

want=12.4.2
if [ "$(pnpm --version 2>/dev/null || true)" != "$want" ]; then
  if [ "$("$root/.tools/node_modules/.bin/pnpm" --version 2>/dev/null || true)" != "$want" ]; then
    echo "Installing pnpm $want into .tools/ ..." >&2
    npm install --silent --no-audit --no-fund --prefix "$root/.tools" "pnpm@$want" >/dev/null
  fi
  export PATH="$root/.tools/node_modules/.bin:$PATH"
fi
exec pnpm "$@"
