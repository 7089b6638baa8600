#!/bin/bash
# The mysql image's environment contract on MariaDB: initialise an empty data directory once
# (root password or none, a database, an optional user), then run the server for every host.
set -euo pipefail
DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
say() { echo "[entrypoint] $*"; }

sql_string() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }

initialise() {
  if [[ -z ${MYSQL_ROOT_PASSWORD:-} && -z ${MYSQL_ALLOW_EMPTY_PASSWORD:-} && -z ${MYSQL_RANDOM_ROOT_PASSWORD:-} ]]; then
    echo "[entrypoint] error: database is uninitialized and password option is not specified" >&2
    echo "[entrypoint]   You need to specify one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD and MYSQL_RANDOM_ROOT_PASSWORD" >&2
    exit 1
  fi
  say "initialising the database in $DATADIR"
  mariadb-install-db --user=mysql --datadir="$DATADIR" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  # The init server listens on the socket only: a healthcheck over TCP waits for the real one.
  mariadbd --user=mysql --datadir="$DATADIR" --skip-networking --socket="$SOCKET" &
  local pid=$!
  for _ in $(seq 300); do
    mariadb-admin --socket="$SOCKET" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  local root_password=${MYSQL_ROOT_PASSWORD:-}
  if [[ -n ${MYSQL_RANDOM_ROOT_PASSWORD:-} ]]; then
    root_password=$(head -c 18 /dev/urandom | base64)
    say "GENERATED ROOT PASSWORD: $root_password"
  fi
  local pw
  pw=$(sql_string "$root_password")
  {
    echo "DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost'));"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY $pw;"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $pw;"
    if [[ -n ${MYSQL_DATABASE:-} ]]; then
      echo "CREATE DATABASE IF NOT EXISTS \`${MYSQL_DATABASE//\`/}\`;"
    fi
    if [[ -n ${MYSQL_USER:-} && -n ${MYSQL_PASSWORD:-} ]]; then
      echo "CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
      [[ -z ${MYSQL_DATABASE:-} ]] || echo "GRANT ALL ON \`${MYSQL_DATABASE//\`/}\`.* TO $(sql_string "$MYSQL_USER")@'%';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --socket="$SOCKET" -uroot
  kill -TERM "$pid"
  wait "$pid" || true
  say "database initialised"
}

if [[ $1 == mariadbd || $1 == mysqld ]]; then
  shift
  chown mysql:mysql "$DATADIR" /run/mysqld
  [[ -d $DATADIR/mysql ]] || initialise
  exec mariadbd --user=mysql --datadir="$DATADIR" --socket="$SOCKET" --bind-address=0.0.0.0 --port=3306 \
    --skip-name-resolve "$@"
fi
exec "$@"
