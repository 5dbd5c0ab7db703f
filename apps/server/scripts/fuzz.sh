#!/usr/bin/env bash
# Fuzzes the REST API against its own OpenAPI document with schemathesis (every check: no 5xx,
# status codes, content types, headers and bodies as documented, schema-invalid input rejected,
# schema-valid input accepted, 405 for undocumented methods, 401 without a key, no use after delete, ...).
#
#   pip install schemathesis==4.32.5
#   pnpm --filter @mem/server fuzz                 # or: bash apps/server/scripts/fuzz.sh
#
# Starts the server from source on 127.0.0.1 (a free port) with a temporary SQLite file and two
# keys: a tenant key bound to one user (every data operation) and an admin key (the admin
# operations). Exits non-zero when schemathesis finds a failure. Bounded: FUZZ_MAX_EXAMPLES test
# cases per operation and phase (default 25), FUZZ_SEED for a reproducible run.
set -euo pipefail
cd "$(dirname "$0")/.."

schemathesis="${SCHEMATHESIS:-schemathesis}"
if ! command -v "$schemathesis" >/dev/null 2>&1; then
  echo "schemathesis is not installed: pip install schemathesis==4.32.5" >&2
  exit 2
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

tenant_key="fuzz-tenant-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
admin_key="fuzz-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

MEM_DB="$work/fuzz.db" MEM_PORT=0 MEM_HOST=127.0.0.1 \
  MEM_LLM=none MEM_EMBEDDER=lexical \
  MEM_KEYS_FILE="$work/keys.json" \
  MEM_API_KEYS="[{\"id\":\"fuzz-tenant\",\"key\":\"$tenant_key\",\"userIds\":[\"fuzz-user\"]}]" \
  MEM_ADMIN_KEY="$admin_key" \
  MEM_RATE_LIMIT_BURST=1000000 MEM_RATE_LIMIT_PER_SECOND=1000000 \
  node --import tsx src/main.ts 2>"$work/server.log" &
server_pid=$!

url=""
for _ in $(seq 1 100); do
  url="$(grep -o '"msg":"listening","url":"[^"]*"' "$work/server.log" 2>/dev/null | sed 's/.*"url":"\([^"]*\)"/\1/' || true)"
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log" >&2; exit 1; fi
  sleep 0.1
done
[ -n "$url" ] || { echo "the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
echo "fuzzing $url/openapi.json"

common=(--checks all --max-examples "${FUZZ_MAX_EXAMPLES:-25}" --workers 1 --seed "${FUZZ_SEED:-20261125}" --suppress-health-check all --request-timeout 30)
status=0
server_dir="$PWD"
config="$PWD/scripts/schemathesis.toml"
# schemathesis keeps a cache (.schemathesis/) in its working directory: keep it in the temporary one.
cd "$work"
# Data operations with the tenant key (scopes outside its user answer 403, which the checks accept).
"$schemathesis" --config-file "$config" run "$url/openapi.json" "${common[@]}" --exclude-path-regex '^/v1/admin' \
  -H "Authorization: Bearer $tenant_key" || status=$?
# Admin operations with the admin key.
"$schemathesis" --config-file "$config" run "$url/openapi.json" "${common[@]}" --include-path-regex '^/v1/admin' \
  -H "Authorization: Bearer $admin_key" || status=$?

cd "$server_dir"
if grep -q '"status":5[0-9][0-9]' "$work/server.log"; then
  echo "the server log records 5xx responses:" >&2
  grep '"status":5[0-9][0-9]\|"level":"error"' "$work/server.log" | head -20 >&2
  status=1
fi
exit "$status"
