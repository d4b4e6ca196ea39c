#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]
#
# Runs CMD with a throwaway PostgreSQL server and exports its URL as
# ALEXA_OOS_TEST_DATABASE_URL (and its data directory as
# ALEXA_OOS_TEST_PGDATA), then stops the server and deletes its files,
# whatever CMD's outcome. The exit status is CMD's.
#
#   scripts/with-postgres.sh go test ./queue/
#
# The server is found in /usr/lib/postgresql/*/bin (the newest version), or
# on PATH; failing both, it is installed with apt-get (as root). initdb
# refuses to run as root, so as root the server runs as the "postgres" user
# (created when missing). It listens on a unix socket in its own temporary
# directory and on 127.0.0.1 at a free port, with durability switched off
# (fsync, synchronous_commit): a test database, never a real one.
#
# When ALEXA_OOS_TEST_DATABASE_URL is already set, CMD runs against that
# database and no server is started, so the script can wrap itself.
# Quiet on success; on failure the server's log is printed.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
if [ -n "${ALEXA_OOS_TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi

find_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then
    echo "$d"
    return
  fi
  if command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
  fi
}

bin=$(find_bin)
if [ -z "$bin" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "$0: PostgreSQL is not installed and installing it needs root: apt-get install postgresql" >&2
    exit 1
  fi
  echo "$0: installing PostgreSQL with apt-get" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bin=$(find_bin)
  if [ -z "$bin" ]; then
    echo "$0: apt-get installed no pg_ctl" >&2
    exit 1
  fi
fi

# As root, the server runs as another user.
as_owner=()
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  if ! id "$owner" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
  fi
  if command -v runuser >/dev/null 2>&1; then
    as_owner=(runuser -u "$owner" --)
  else
    as_owner=(su "$owner" -s /bin/sh -c '"$0" "$@"')
  fi
fi

base=$(mktemp -d "${TMPDIR:-/tmp}/alexa-oos-pg.XXXXXX")
chmod 755 "$base"
data="$base/data"
sock="$base/sock"
log="$base/server.log"
mkdir -p "$data" "$sock"
touch "$log"
if [ "$(id -u)" -eq 0 ]; then
  chown "$owner" "$data" "$sock" "$log"
fi
chmod 700 "$data"

started=
cleanup() {
  local status=$?
  if [ -n "$started" ]; then
    (cd / && "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1) || true
  fi
  rm -rf "$base"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "$0: $1" >&2
  cat "$log" >&2 || true
  exit 1
}

free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  return 1
}

(cd / && "${as_owner[@]}" "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-sync >>"$log" 2>&1) ||
  fail "initdb failed"

port=
for attempt in 1 2 3; do
  port=$(free_port) || fail "no free port"
  opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$sock"
  opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
  if (cd / && "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -l "$log" -o "$opts" -w -t 60 start >/dev/null 2>&1); then
    started=1
    break
  fi
done
[ -n "$started" ] || fail "pg_ctl start failed"

"$bin/createdb" -h "$sock" -p "$port" -U postgres alexa_oos_test >>"$log" 2>&1 || fail "createdb failed"

export ALEXA_OOS_TEST_DATABASE_URL="postgres://postgres@/alexa_oos_test?host=$sock&port=$port&sslmode=disable"
export ALEXA_OOS_TEST_PGDATA="$data"
set +e
"$@"
status=$?
set -e
exit "$status"
