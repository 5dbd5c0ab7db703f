#!/usr/bin/env bash
# Installs what the PostgreSQL stores' tests need, when it is missing: PostgreSQL 15 and its server
# headers from Debian packages, and pgvector 0.8.6 built from ../shared/vendor (Debian has no
# pgvector package). Idempotent: when everything is there it only checks, in well under a second.
# Run as root (apt-get, and `make install` into PostgreSQL's directories). Called by .ci/run and by
# `npm test` (scripts/run.sh); the tests start the server themselves (@mem/postgres/testing).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=0.8.6
bindir=/usr/lib/postgresql/15/bin
pg_config="$bindir/pg_config"

installed() {
  [ -x "$bindir/initdb" ] && [ -x "$bindir/pg_ctl" ] && [ -x "$pg_config" ] || return 1
  local control
  control="$("$pg_config" --sharedir)/extension/vector.control"
  [ -f "$("$pg_config" --pkglibdir)/vector.so" ] && grep -q "default_version = '$version'" "$control" 2>/dev/null
}

if installed; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install-postgres: PostgreSQL 15 with pgvector $version is missing, and installing it needs root." >&2
  exit 1
fi

# The server headers (postgres.h) come from postgresql-server-dev-15, which a machine with
# postgresql-15 alone lacks: pgvector's build needs them.
server_headers() { [ -x "$pg_config" ] && [ -f "$("$pg_config" --includedir-server)/postgres.h" ]; }
if [ ! -x "$bindir/initdb" ] || ! server_headers || ! command -v make >/dev/null || ! command -v gcc >/dev/null; then
  echo "install-postgres: installing postgresql-15 and postgresql-server-dev-15 from Debian ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    postgresql-15 postgresql-server-dev-15 build-essential >/dev/null
fi

# The tarball sits in shared/vendor beside the repository (../shared in CI); look upwards for it.
tarball=""
directory="$root"
while [ "$directory" != / ]; do
  directory="$(dirname "$directory")"
  if [ -f "$directory/shared/vendor/pgvector-$version.tar.gz" ]; then
    tarball="$directory/shared/vendor/pgvector-$version.tar.gz"
    break
  fi
done
if [ -z "$tarball" ]; then
  echo "install-postgres: shared/vendor/pgvector-$version.tar.gz was not found beside the repository." >&2
  exit 1
fi

echo "install-postgres: building pgvector $version ..."
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
tar -xzf "$tarball" -C "$build"
# OPTFLAGS="" leaves out -march=native, so the library runs on any x86-64 machine.
make -s -C "$build/pgvector-$version" -j"$(nproc)" PG_CONFIG="$pg_config" OPTFLAGS="" >/dev/null
make -s -C "$build/pgvector-$version" PG_CONFIG="$pg_config" install >/dev/null
installed && echo "install-postgres: pgvector $version installed."
