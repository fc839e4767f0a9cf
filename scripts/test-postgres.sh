#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL 15 with PostGIS for the tests, loaded with the flood layers.
#
#   scripts/test-postgres.sh start DIR   create a cluster in DIR, start it, write DIR/env
#   scripts/test-postgres.sh stop DIR    stop the cluster and remove DIR
#
# The server listens on 127.0.0.1 on a free port and on a Unix socket in DIR/cluster/socket. It trusts
# every connection, because both ways in stay on this machine. DIR/env contains the
# PGHOST, PGPORT, PGUSER and PGDATABASE lines that clients need, and is written last, so its presence
# means the database is ready. The database `tuilerie` has the PostGIS extension and the tables
# flood.zone_alea and flood.perimetre, copied with ogr2ogr from the flood GeoPackage: the GeoPackage
# fid as primary key `fid`, geometry column `geom` in EPSG:2154 with a GiST index.
#
# initdb and postgres refuse to run as root. As root, the cluster belongs to the `postgres` system user
# (created by Debian's postgresql package) and its programs run through runuser. When that user cannot
# reach DIR (a build tree under /root, say), the cluster goes into a directory under /tmp instead, and
# DIR/cluster is a symbolic link to it.
set -euo pipefail

source_root=$(cd "$(dirname "$0")/.." && pwd)
readonly source_root
readonly flood_gpkg="$source_root/data/flood/pprn-38DDT20130013-inondation-l93.gpkg"
readonly flood_layers=(zone_alea perimetre)
# Debian 12's PostgreSQL. PG_BIN overrides it for another installation.
readonly pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
readonly pg_user=postgres
readonly database=tuilerie
# Written into DIR, so that `stop` removes only directories that `start` made.
readonly marker_name=.tuilerie-test-postgres
# Time limit of each step, in seconds. Loading the flood layers takes about a second.
readonly step_timeout=60
# A Unix socket path is at most 107 bytes long (sun_path), and "/socket/.s.PGSQL.NNNNN" takes 22 of them.
readonly max_cluster_path_length=85

die() {
  echo "test-postgres: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# The prefix that runs a server program as the cluster's owner: postgres when root, the current user
# otherwise. An array rather than a function, so that `timeout` can run it.
if is_root; then
  readonly as_owner=(runuser -u "$pg_user" --)
else
  readonly as_owner=()
fi

check_programs() {
  local program
  for program in initdb pg_ctl pg_config postgres; do
    [ -x "$pg_bin/$program" ] ||
      die "$pg_bin/$program not found; install postgresql-15 (scripts/install-deps.sh) or set PG_BIN"
  done
  for program in psql ogr2ogr python3 timeout; do
    command -v "$program" >/dev/null || die "$program not found; run scripts/install-deps.sh"
  done
  [ -f "$("$pg_bin/pg_config" --sharedir)/extension/postgis.control" ] ||
    die "PostGIS is not installed for $pg_bin; install postgresql-15-postgis-3 (scripts/install-deps.sh)"
  if is_root; then
    getent passwd "$pg_user" >/dev/null ||
      die "no '$pg_user' user to run PostgreSQL as, and initdb rejects root; install postgresql"
  fi
}

# Prints a TCP port that was free a moment ago. Another process may take it before PostgreSQL binds it,
# which start_server handles by trying another port.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Prints the real path of the cluster directory of DIR, or nothing when there is none.
cluster_of() {
  local dir=$1
  if [ -e "$dir/cluster" ]; then readlink -f "$dir/cluster"; fi
}

stop_server() {
  local cluster=$1
  [ -f "$cluster/data/postmaster.pid" ] || return 0
  if ! (cd "$cluster" && timeout "$step_timeout" \
          "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$cluster/data" -m fast -w -t 30 stop >/dev/null); then
    die "pg_ctl stop failed for $cluster/data; see $cluster/postgres.log," \
        "then stop the server by the PID on the first line of $cluster/data/postmaster.pid"
  fi
}

# Stops the cluster of DIR and removes DIR, and the cluster's directory under /tmp if there is one.
stop_cluster() {
  local dir=$1 cluster
  [ -e "$dir" ] || return 0
  [ -d "$dir" ] || die "$dir is not a directory"
  if [ ! -e "$dir/$marker_name" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir was not made by $0 and is not empty; give another directory or remove it yourself"
  fi
  cluster=$(cluster_of "$dir")
  if [ -n "$cluster" ]; then
    stop_server "$cluster"
    [ "$cluster" = "$dir/cluster" ] || rm -rf -- "$cluster"
  fi
  rm -rf -- "$dir"
}

# Makes the cluster directory, owned by the user that will run the server, and prints its path.
make_cluster_directory() {
  local dir=$1 cluster
  if ! is_root; then
    mkdir "$dir/cluster"
    echo "$dir/cluster"
    return
  fi
  chown "$pg_user:" "$dir"
  if runuser -u "$pg_user" -- test -w "$dir"; then
    cluster="$dir/cluster"
    runuser -u "$pg_user" -- mkdir "$cluster"
  else
    cluster=$(mktemp -d "${TMPDIR:-/tmp}/tuilerie-postgres-XXXXXX")
    chown "$pg_user:" "$cluster"
    ln -s "$cluster" "$dir/cluster"
    echo "test-postgres: user $pg_user cannot write to $dir, so the cluster is in $cluster" >&2
  fi
  echo "$cluster"
}

# Creates the cluster and appends the test settings to postgresql.conf, where later lines win. The port
# is given to each start instead (pg_ctl -o), because a retried start takes another one.
init_cluster() {
  local cluster=$1 log=$1.initdb.log
  # The log is written by the current user, who may be root and not the cluster's owner, so it sits
  # beside the cluster directory until initdb succeeds.
  (cd "$cluster" && timeout "$step_timeout" "${as_owner[@]}" "$pg_bin/initdb" -D "$cluster/data" \
      --username="$pg_user" --auth-local=trust --auth-host=trust --encoding=UTF8 --locale=C.UTF-8 \
      --no-sync) >"$log" 2>&1 || die "initdb failed in $cluster/data: $(tail -n 5 "$log")"
  rm -f -- "$log"
  "${as_owner[@]}" mkdir "$cluster/socket"
  # fsync and full-page writes are off because a test database is thrown away after the run, so
  # durability buys nothing. initdb's trust lines in pg_hba.conf cover the Unix socket and loopback.
  "${as_owner[@]}" tee -a "$cluster/data/postgresql.conf" >/dev/null <<EOF

# Test settings added by scripts/test-postgres.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$cluster/socket'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

# Starts the server on a free port and prints the port. It tries three ports, because another process
# may bind the chosen port first.
start_server() {
  local cluster=$1 port attempt
  for attempt in 1 2 3; do
    port=$(free_port)
    if (cd "$cluster" && timeout "$step_timeout" "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$cluster/data" \
          -o "-p $port" -l "$cluster/postgres.log" -w -t 30 start >/dev/null); then
      echo "$port"
      return
    fi
    echo "test-postgres: the server did not start on port $port (attempt $attempt of 3)" >&2
    # pg_ctl gives up after -t seconds but leaves a server that may still be starting.
    stop_server "$cluster"
  done
  die "PostgreSQL did not start; the end of $cluster/postgres.log: $(tail -n 5 "$cluster/postgres.log")"
}

run_psql() {
  local port=$1 dbname=$2 sql=$3
  timeout "$step_timeout" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$pg_user" \
    -d "$dbname" -c "$sql" >/dev/null || die "psql on database $dbname failed: $sql"
}

create_database() {
  local port=$1
  run_psql "$port" postgres "CREATE DATABASE $database"
  run_psql "$port" "$database" "CREATE EXTENSION postgis; CREATE SCHEMA flood"
}

load_flood_layers() {
  local port=$1 layer
  [ -f "$flood_gpkg" ] || die "$flood_gpkg not found"
  # -preserve_fid with FID=fid keeps the GeoPackage fids as the primary key, so that features compare
  # one to one with the file-backed layer.
  timeout "$step_timeout" ogr2ogr -f PostgreSQL \
    "PG:host=127.0.0.1 port=$port user=$pg_user dbname=$database" "$flood_gpkg" "${flood_layers[@]}" \
    -lco SCHEMA=flood -lco GEOMETRY_NAME=geom -lco FID=fid -lco SPATIAL_INDEX=GIST -preserve_fid \
    -a_srs EPSG:2154 || die "ogr2ogr could not load ${flood_layers[*]} from $flood_gpkg"
  for layer in "${flood_layers[@]}"; do
    # Explicit fids leave the fid sequence at 1, and the first INSERT of a test would then collide
    # with an existing row.
    run_psql "$port" "$database" "SELECT setval(pg_get_serial_sequence('flood.$layer', 'fid'), max(fid))
                                  FROM flood.$layer; ANALYZE flood.$layer"
  done
}

write_env() {
  local dir=$1 port=$2
  cat >"$dir/env.partial" <<EOF
PGHOST=127.0.0.1
PGPORT=$port
PGUSER=$pg_user
PGDATABASE=$database
EOF
  mv -- "$dir/env.partial" "$dir/env"
}

start_cluster() {
  local dir=$1 cluster port
  check_programs
  stop_cluster "$dir"
  mkdir -p -- "$dir"
  touch -- "$dir/$marker_name"
  cluster=$(make_cluster_directory "$dir")
  [ "${#cluster}" -le "$max_cluster_path_length" ] ||
    die "$cluster/socket is too long a path for a Unix socket; give a DIR of at most 77 characters"
  init_cluster "$cluster"
  port=$(start_server "$cluster")
  # From here on a failed step must not leave the server running. DIR stays for its logs.
  # shellcheck disable=SC2064 # the path is expanded now on purpose: $cluster is local to this function.
  trap "stop_server $(printf %q "$cluster")" EXIT
  create_database "$port"
  load_flood_layers "$port"
  write_env "$dir" "$port"
  trap - EXIT
  echo "test-postgres: PostgreSQL with PostGIS on 127.0.0.1:$port, database $database; settings in $dir/env"
}

main() {
  if [ $# -ne 2 ] || [ -z "$2" ]; then usage; fi
  local command=$1 dir
  dir=$(readlink -m -- "$2")
  [ "$dir" != "/" ] || die "DIR must not be /; give a directory of its own"
  case "$command" in
    start) start_cluster "$dir" ;;
    stop) stop_cluster "$dir" && echo "test-postgres: stopped and removed $dir" ;;
    *) usage ;;
  esac
}

main "$@"
