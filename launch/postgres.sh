#!/usr/bin/env bash
# A throw-away PostgreSQL server for the evolution store (tests, CI, trying `store=postgres` on one machine).
#
#   launch/postgres.sh start [DIR]   # initdb + start in DIR (default /tmp/genesys-pg); prints GENESYS_STORE_URL
#   launch/postgres.sh stop  [DIR]   # stop it (the data stays in DIR; `rm -rf DIR` to drop it)
#   launch/postgres.sh url   [DIR]
# GENESYS_PG_PORT (default 5433) picks the port; GENESYS_PG_LISTEN (default: none, Unix socket only) the TCP
# addresses to listen on ('*' for other nodes; then give the server a password and a pg_hba rule of your own).
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (else `nobody`).
#
# Then: eval "$(launch/postgres.sh start)"; python -m genesys store=postgres
set -euo pipefail
cmd=${1:-start}
dir=${2:-${GENESYS_PG_DIR:-/tmp/genesys-pg}}
port=${GENESYS_PG_PORT:-5433}
listen=${GENESYS_PG_LISTEN:-}
user=genesys
db=genesys

find_bin() {
  if [ -n "${GENESYS_PG_BIN:-}" ]; then echo "$GENESYS_PG_BIN"; return; fi
  if command -v pg_ctl >/dev/null; then dirname "$(readlink -f "$(command -v pg_ctl)")"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}
bin=$(find_bin)
[ -x "$bin/pg_ctl" ] || { echo "PostgreSQL not found (set GENESYS_PG_BIN to the folder holding pg_ctl)" >&2; exit 2; }

as_user=()
if [ "$(id -u)" = 0 ]; then
  if id postgres >/dev/null 2>&1; then as_user=(runuser -u postgres --); else as_user=(runuser -u nobody --); fi
fi

url() {
  if [ -n "$listen" ]; then echo "postgresql+psycopg://$user@$(hostname):$port/$db"
  else echo "postgresql+psycopg://$user@/$db?host=$dir&port=$port"; fi
}

start() {
  mkdir -p "$dir"
  [ ${#as_user[@]} -gt 0 ] && chown "${as_user[2]}" "$dir"
  if [ ! -s "$dir/data/PG_VERSION" ]; then
    "${as_user[@]}" "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --no-sync >/dev/null
  fi
  if ! "${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    "${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -c listen_addresses='$listen' -p $port -c max_connections=200" start >/dev/null \
      || { tail -n 20 "$dir/server.log" >&2; exit 1; }
  fi
  "${as_user[@]}" "$bin/createdb" -h "$dir" -p "$port" -U "$user" "$db" 2>/dev/null || true   # exists on a restart
  echo "export GENESYS_STORE_URL='$(url)'"
}

stop() {
  [ -d "$dir/data" ] || return 0
  "${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  url) echo "$(url)" ;;
  *) echo "usage: $0 start|stop|url [DIR]" >&2; exit 2 ;;
esac
