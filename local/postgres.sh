#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1:$PG_PORT for the migration tests and demo.
#   install  the Debian package if its binaries are missing (root), without its default cluster
#   start    initdb once, start, create the database (idempotent)
#   stop     stop it and delete the cluster
set -euo pipefail
source "$(dirname "$0")/env.sh"
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

as_pg() { # run as the postgres user when root (initdb refuses root), as ourselves otherwise
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
install)
  if [[ -n "$PG_BIN" && -x "$PG_BIN/initdb" ]]; then exit 0; fi
  [[ $(id -u) == 0 ]] || { echo "local: PostgreSQL is not installed; as root run: local/postgres.sh install" >&2; exit 1; }
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/cutover.conf
  t0=$(date +%s)
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  echo "local: installed PostgreSQL in $(( $(date +%s) - t0 )) s"
  ;;
start)
  [[ -x "$PG_BIN/initdb" ]] || { echo "local: PostgreSQL binaries not found; run local/postgres.sh install" >&2; exit 1; }
  if [[ ! -f "$PG_DIR/PG_VERSION" ]]; then
    mkdir -p "$PG_DIR"
    [[ $(id -u) == 0 ]] && chown postgres:postgres "$PG_DIR"
    as_pg "$PG_BIN/initdb" -D "$PG_DIR" -U postgres --auth=trust -N >/dev/null
  fi
  if [[ ! -f "$PG_DIR/tls/ca.crt" ]]; then
    # A throwaway CA and a server certificate for 127.0.0.1, so the TLS (verify-full) path is tested
    # against a real handshake; tests pass tls/ca.crt as the bundle, as RDS's bundle is passed on AWS.
    tls="$PG_DIR/tls"
    mkdir -p "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cutover-local-ca" \
      -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
    printf "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" > "$tls/ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
      -days 2 -extfile "$tls/ext" -out "$tls/server.crt" 2>/dev/null
    chmod 600 "$tls/server.key"
    [[ $(id -u) == 0 ]] && chown -R postgres:postgres "$tls"
  fi
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
    # fsync off: a throwaway cluster; max_connections for parallel tests with their writers.
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/log" -w start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off -c max_connections=200 \
          -c ssl=on -c ssl_cert_file=$PG_DIR/tls/server.crt -c ssl_key_file=$PG_DIR/tls/server.key" >/dev/null
  fi
  if [[ -z $("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'") ]]; then
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $PG_DATABASE"
  fi
  # A role that may log in only over TLS with SCRAM-SHA-256, as on RDS: the channel-binding test
  # connects as it (the rest of this cluster trusts local connections).
  if ! grep -q cutover_tls "$PG_DIR/pg_hba.conf"; then
    as_pg sed -i '1i hostssl all cutover_tls 127.0.0.1/32 scram-sha-256\nhost all cutover_tls 127.0.0.1/32 reject' "$PG_DIR/pg_hba.conf"
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "SELECT pg_reload_conf()" >/dev/null
  fi
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cutover_tls') THEN
        SET password_encryption = 'scram-sha-256';
        CREATE ROLE cutover_tls LOGIN PASSWORD 'local-only';
      END IF; END \$\$" >/dev/null
  echo "local: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT, database $PG_DATABASE"
  ;;
stop)
  if [[ -f "$PG_DIR/PG_VERSION" ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    echo "local: stopped PostgreSQL and removed $PG_DIR"
  fi
  ;;
*) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
