# shellcheck shell=bash source-path=SCRIPTDIR
# Functions to run regsuite's PostgreSQL, Redis and binaries as plain local processes.
# Sourced by deploy/local/{stack,pgctl,redisctl}.sh and tools/test.sh, which all run under
# `set -euo pipefail`; the functions return non-zero on failure rather than exiting.
#
# An instance is a folder var/<instance>/ (gitignored):
#   pg/        PostgreSQL: data/ (cluster), log/ (server log), run/ (unix socket)
#   redis/     Redis: redis.conf (generated), data/ (RDB + AOF), log/, run/ (pid file)
#   secrets/   postgres_password: generated once, mode 600, read by the services through
#              REGSUITE_POSTGRES_PASSWORD_FILE
#   run/       <component>.pid          logs/  <component>.log
#
# PostgreSQL refuses to run as root. As root the cluster belongs to the system user `regsuite`
# (created on first use) and every PostgreSQL program runs through `runuser -u regsuite`;
# otherwise it belongs to the current user. If that user cannot reach the pg folder (a clone
# under /root, mode 700), the cluster moves to /var/lib/regsuite/pg-<hash of the folder> and
# <pg folder>/home links to it. A unix socket path must stay under 108 bytes: a pg folder with
# a long path gets its socket in /tmp/regsuite-pg-<hash> instead of run/.
#
# Authentication: TCP (127.0.0.1 only) takes scram-sha-256 passwords. The role `regsuite` owns
# database `regsuite` and may create databases (tests make throwaway ones). The bootstrap
# superuser `postgres` logs in only over the unix socket, by peer authentication, as the user
# that owns the cluster. Redis listens on 127.0.0.1 with protected mode and no password: it is
# reachable from this machine only, which is acceptable for a developer's machine.

REGSUITE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PG_SYSTEM_USER=regsuite
PG_RELOCATE_BASE=/var/lib/regsuite

# shellcheck source=ports.env
source "$REGSUITE_ROOT/deploy/local/ports.env"

log() { printf '[%s] %s\n' "${LOG_TAG:-regsuite}" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

_abs() { realpath -m -- "$1"; }

# True when PID names a live process (a zombie, killed but not yet reaped, does not count).
_pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}
_pid_gone() { ! _pid_alive "$1"; }
_short_hash() { printf '%s' "$1" | sha256sum | cut -c1-12; }

# True when something listens on 127.0.0.1:PORT (or on all addresses).
port_in_use() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

# Waits until "$@" succeeds, polling every 0.2 s for up to TIMEOUT seconds.
wait_for() {
  local timeout=$1 deadline
  shift
  deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Shows the last lines of a log file on stderr.
show_log_tail() {
  local file=$1 lines=${2:-40}
  if [[ -r $file ]]; then
    log "last $lines lines of $file:"
    tail -n "$lines" -- "$file" >&2 || true
  else
    log "no log at $file"
  fi
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

_pg_user() {
  if ((EUID == 0)); then echo "$PG_SYSTEM_USER"; else id -un; fi
}

_pg_ensure_system_user() {
  ((EUID == 0)) || return 0
  id -u "$PG_SYSTEM_USER" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_SYSTEM_USER" ||
    id -u "$PG_SYSTEM_USER" >/dev/null 2>&1 # lost a race with a parallel run: fine
}

# Runs a command as the cluster's owner, from / so that an unreadable cwd does not matter.
_as_pg() {
  if ((EUID == 0)); then
    (cd / && runuser -u "$PG_SYSTEM_USER" -- "$@")
  else
    "$@"
  fi
}

# Gives FILE... to the cluster's owner (no-op unless root).
_pg_own() {
  if ((EUID == 0)); then chown "$PG_SYSTEM_USER:" "$@"; fi
}

_pg_relocated_home() { printf '%s/pg-%s\n' "$PG_RELOCATE_BASE" "$(_short_hash "$(_abs "$1")")"; }

# The folder that really holds data/ and log/: DIR itself, or where DIR/home points.
_pg_home() {
  local dir
  dir=$(_abs "$1")
  if [[ -L $dir/home ]]; then readlink -f -- "$dir/home"; else printf '%s\n' "$dir"; fi
}

_pg_sockdir() {
  local home
  home=$(_pg_home "$1")
  if ((${#home} > 80)); then
    printf '/tmp/regsuite-pg-%s\n' "$(_short_hash "$home")"
  else
    printf '%s/run\n' "$home"
  fi
}

# The password file of the instance that DIR belongs to (DIR's parent is the instance folder).
pg_password_file() { printf '%s/secrets/postgres_password\n' "$(dirname "$(_abs "$1")")"; }

# Prints the postmaster's pid when the cluster in DIR is running.
pg_pid() {
  local pidfile pid
  pidfile="$(_pg_home "$1")/data/postmaster.pid"
  [[ -r $pidfile ]] || return 1
  pid=$(sed -n 1p "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && _pid_alive "$pid" || return 1
  printf '%s\n' "$pid"
}

# pg_is_up DIR [PORT]: the cluster in DIR runs (on PORT, when given) and accepts connections.
pg_is_up() {
  local dir=$1 port=${2:-} pidfile
  pg_pid "$dir" >/dev/null || return 1
  pidfile="$(_pg_home "$dir")/data/postmaster.pid"
  [[ -z $port || $(sed -n 4p "$pidfile") == "$port" ]] || return 1
  port=$(sed -n 4p "$pidfile")
  "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -t 3
}

# Creates the folders (moving the cluster out of reach-less paths when root), the password.
_pg_prepare() {
  local dir=$1 home secret
  _pg_ensure_system_user
  mkdir -p "$dir"
  if ((EUID == 0)) && [[ ! -L $dir/home ]]; then
    _pg_own "$dir"
    if ! _as_pg test -w "$dir"; then
      home=$(_pg_relocated_home "$dir")
      mkdir -p "$home"
      _pg_own "$home"
      chmod 700 "$home"
      ln -sfn "$home" "$dir/home"
      log "$PG_SYSTEM_USER cannot reach $dir: PostgreSQL's files live in $home"
    fi
  fi
  home=$(_pg_home "$dir")
  mkdir -p "$home/log" "$(_pg_sockdir "$dir")"
  _pg_own "$home" "$home/log" "$(_pg_sockdir "$dir")"
  chmod 700 "$(_pg_sockdir "$dir")"

  secret=$(pg_password_file "$dir")
  if [[ ! -s $secret ]]; then
    mkdir -p "$(dirname "$secret")"
    chmod 700 "$(dirname "$secret")"
    (umask 077 && openssl rand -hex 16 >"$secret.tmp" && mv -f "$secret.tmp" "$secret")
    log "generated the PostgreSQL password in $secret"
  fi
}

# Writes stdin to FILE inside the cluster and gives it to the cluster's owner.
_pg_write() {
  cat >"$1"
  _pg_own "$1"
}

# initdb (when DIR has no cluster yet) and (re)writes our settings; the server is not started.
_pg_initdb() {
  local dir=$1 port=$2 home data sockdir
  home=$(_pg_home "$dir")
  data=$home/data
  sockdir=$(_pg_sockdir "$dir")
  if [[ ! -f $data/PG_VERSION ]]; then
    rm -rf -- "$data" # an interrupted initdb leaves a folder initdb refuses to reuse
    # --no-sync: the new files reach the disk with the first checkpoint; the server keeps fsync
    log "initdb $data"
    if ! _as_pg "$PG_BINDIR/initdb" -D "$data" -U postgres --auth-local=peer \
      --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-instructions --no-sync \
      >"$home/log/initdb.log" 2>&1; then
      show_log_tail "$home/log/initdb.log"
      return 1
    fi
  fi
  _pg_write "$data/regsuite.conf" <<EOF
# Written by deploy/local/lib.sh on every start; edits here are lost.
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
max_connections = 200
fsync = on
logging_collector = on
log_directory = '$home/log'
log_filename = 'postgresql.log'
log_rotation_age = 0
log_rotation_size = 0
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  if ! grep -qxF "include_if_exists = 'regsuite.conf'" "$data/postgresql.conf"; then
    printf "\ninclude_if_exists = 'regsuite.conf'\n" >>"$data/postgresql.conf"
  fi
  _pg_write "$data/pg_hba.conf" <<'EOF'
# Written by deploy/local/lib.sh. TYPE DATABASE USER ADDRESS METHOD
local all postgres              peer map=admin
local all all                   scram-sha-256
host  all all      127.0.0.1/32 scram-sha-256
EOF
  _pg_write "$data/pg_ident.conf" <<EOF
# Written by deploy/local/lib.sh. MAPNAME SYSTEM-USERNAME PG-USERNAME
admin $(_pg_user) postgres
EOF
}

_pg_server_start() {
  local dir=$1 port=$2 home
  pg_is_up "$dir" "$port" && return 0
  home=$(_pg_home "$dir")
  if pg_pid "$dir" >/dev/null; then
    # starting up, recovering or shutting down: give it time before restarting it
    if [[ $(sed -n 4p "$home/data/postmaster.pid") == "$port" ]] &&
      wait_for 30 pg_is_up "$dir" "$port"; then
      return 0
    fi
    log "PostgreSQL in $dir runs but does not answer on port $port: restarting it"
    pg_stop "$dir" || return 1
  fi
  if port_in_use "$port"; then
    log "port $port is in use by another process (another stack or test run?)"
    return 1
  fi
  if ! _as_pg "$PG_BINDIR/pg_ctl" start -D "$home/data" -w -t 60 -s \
    -l "$home/log/startup.log" >/dev/null; then
    show_log_tail "$home/log/startup.log"
    show_log_tail "$home/log/postgresql.log"
    return 1
  fi
}

# Creates role and database when missing and sets the role's password from the password file.
_pg_ensure_role_db() {
  local dir=$1 port=$2 password
  password=$(<"$(pg_password_file "$dir")")
  [[ $password =~ ^[0-9a-f]+$ ]] || {
    log "unexpected content in $(pg_password_file "$dir")"
    return 1
  }
  {
    printf '\\set pw %s\n' "$password"
    cat <<'SQL'
SELECT format('CREATE ROLE regsuite LOGIN CREATEDB PASSWORD %L', :'pw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regsuite')
\gexec
ALTER ROLE regsuite WITH LOGIN CREATEDB PASSWORD :'pw';
SELECT 'CREATE DATABASE regsuite OWNER regsuite'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'regsuite')
\gexec
SQL
  } | _as_pg "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$(_pg_sockdir "$dir")" \
    -p "$port" -U postgres -d postgres >/dev/null
}

# pg_init DIR PORT: a cluster in DIR/data with our settings, role and database `regsuite`
# whose password is var/<instance>/secrets/postgres_password. Idempotent. Leaves the server
# as it found it (a stopped one is started for the role and database, then stopped again).
pg_init() {
  local dir port=$2
  dir=$(_abs "$1")
  _pg_prepare "$dir" && _pg_initdb "$dir" "$port" || return 1
  if pg_is_up "$dir" "$port"; then
    _pg_ensure_role_db "$dir" "$port"
  else
    _pg_server_start "$dir" "$port" && _pg_ensure_role_db "$dir" "$port" && pg_stop "$dir"
  fi
}

# pg_start DIR PORT: pg_init when needed, then the server runs with role and database ready.
pg_start() {
  local dir port=$2
  dir=$(_abs "$1")
  if pg_is_up "$dir" "$port"; then
    log "PostgreSQL already up on 127.0.0.1:$port (pid $(pg_pid "$dir"))"
    return 0
  fi
  _pg_prepare "$dir" && _pg_initdb "$dir" "$port" && _pg_server_start "$dir" "$port" &&
    _pg_ensure_role_db "$dir" "$port" || return 1
  log "PostgreSQL up on 127.0.0.1:$port (pid $(pg_pid "$dir"), data $(_pg_home "$dir")/data)"
}

# pg_stop DIR [MODE]: shutdown, by default fast (aborts open transactions, then a clean
# checkpoint); `immediate` skips the checkpoint (crash recovery on the next start). Idempotent.
pg_stop() {
  local dir home mode=${2:-fast}
  dir=$(_abs "$1")
  pg_pid "$dir" >/dev/null || return 0
  home=$(_pg_home "$dir")
  if ! _as_pg "$PG_BINDIR/pg_ctl" stop -D "$home/data" -m "$mode" -w -t 60 -s &&
    pg_pid "$dir" >/dev/null; then
    log "$mode shutdown of $home/data failed: immediate shutdown"
    _as_pg "$PG_BINDIR/pg_ctl" stop -D "$home/data" -m immediate -w -t 30 -s || return 1
  fi
  log "PostgreSQL in $dir stopped"
}

# pg_destroy DIR: stops the cluster and removes every file of it, wherever it lives.
pg_destroy() {
  local dir
  dir=$(_abs "$1")
  if [[ -d $dir ]]; then
    pg_stop "$dir" immediate || return 1 # no checkpoint: the files go anyway
    rm -rf -- "$(_pg_sockdir "$dir")"
  fi
  rm -rf -- "$(_pg_relocated_home "$dir")" "$dir"
}

# ---------------------------------------------------------------------------------------------
# Redis

redis_is_up() { [[ $(timeout 5 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }

# Prints the pid of the redis-server that DIR's pid file names, when it runs.
redis_pid() {
  local pidfile pid
  pidfile="$(_abs "$1")/run/redis.pid"
  [[ -r $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && _pid_alive "$pid" || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server ]] || return 1
  printf '%s\n' "$pid"
}

# redis_start DIR PORT: generates DIR/redis.conf and starts redis-server (daemonized). The
# append-only file keeps data across restarts. Idempotent.
redis_start() {
  local dir port=$2
  dir=$(_abs "$1")
  if redis_pid "$dir" >/dev/null; then
    # running: wait in case it is still loading its data
    if wait_for 30 redis_is_up "$port"; then
      log "Redis already up on 127.0.0.1:$port (pid $(redis_pid "$dir"))"
      return 0
    fi
    log "Redis in $dir runs but does not answer on port $port: restarting it"
    redis_stop "$dir" || return 1
  fi
  if port_in_use "$port"; then
    log "port $port is in use by another process (another stack or test run?)"
    return 1
  fi
  mkdir -p "$dir/data" "$dir/log" "$dir/run"
  cat >"$dir/redis.conf" <<EOF
# Written by deploy/local/lib.sh on every start; edits here are lost.
port $port
bind 127.0.0.1
protected-mode yes
daemonize yes
pidfile $dir/run/redis.pid
logfile $dir/log/redis.log
dir $dir/data
appendonly yes
appendfsync everysec
EOF
  if ! redis-server "$dir/redis.conf" >>"$dir/log/redis.log" 2>&1 ||
    ! wait_for 30 redis_is_up "$port"; then
    show_log_tail "$dir/log/redis.log"
    return 1
  fi
  log "Redis up on 127.0.0.1:$port (pid $(redis_pid "$dir" || echo '?'), data $dir/data)"
}

# redis_stop DIR [PORT]: SIGTERM (Redis then flushes its append-only file and saves), up to
# 15 s, then SIGKILL. Idempotent. Only the process named by DIR's pid file is touched.
redis_stop() {
  local dir pid
  dir=$(_abs "$1")
  pid=$(redis_pid "$dir") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for 15 _pid_gone "$pid"; then
    log "Redis (pid $pid) ignored SIGTERM for 15 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_for 5 _pid_gone "$pid" || return 1
  fi
  rm -f -- "$dir/run/redis.pid"
  log "Redis in $dir stopped"
}

# ---------------------------------------------------------------------------------------------
# Service binaries: pid files in INSTANCE/run, logs in INSTANCE/logs.

svc_pidfile() { printf '%s/run/%s.pid\n' "$(_abs "$1")" "$2"; }
svc_logfile() { printf '%s/logs/%s.log\n' "$(_abs "$1")" "$2"; }

# svc_pid INSTANCE NAME: prints the pid when NAME runs (the pid is alive and still the binary
# that was started, so a recycled pid does not count).
svc_pid() {
  local pidfile pid bin exe
  pidfile=$(svc_pidfile "$1" "$2")
  [[ -r $pidfile ]] || return 1
  {
    read -r pid
    read -r bin
  } <"$pidfile" || true
  [[ ${pid:-} =~ ^[0-9]+$ ]] && _pid_alive "$pid" || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ ${exe% (deleted)} == "${bin:-}" ]] || return 1
  printf '%s\n' "$pid"
}

# svc_start INSTANCE NAME BINARY [ARGS...]: starts BINARY in the background, in its own
# session, with the caller's environment, stdout and stderr appended to the log. Does nothing
# when NAME already runs.
svc_start() {
  local inst name=$2 bin pid pidfile logfile
  inst=$(_abs "$1")
  bin=$(_abs "$3")
  shift 3
  if pid=$(svc_pid "$inst" "$name"); then
    log "$name already running (pid $pid)"
    return 0
  fi
  [[ -x $bin ]] || {
    log "$bin is missing or not executable"
    return 1
  }
  pidfile=$(svc_pidfile "$inst" "$name")
  logfile=$(svc_logfile "$inst" "$name")
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  printf '=== %s starting %s %s\n' "$(date -Is)" "$bin" "$*" >>"$logfile"
  setsid "$bin" "$@" </dev/null >>"$logfile" 2>&1 &
  pid=$!
  printf '%s\n%s\n' "$pid" "$bin" >"$pidfile"
  log "$name started (pid $pid, log $logfile)"
}

# svc_stop INSTANCE NAME...: SIGTERM to each running NAME, then waits for all of them up to
# SVC_STOP_TIMEOUT seconds (15), then SIGKILL. Idempotent.
svc_stop() {
  local inst=$1 name pid deadline
  local -A pids=()
  shift
  for name in "$@"; do
    if pid=$(svc_pid "$inst" "$name"); then
      pids[$name]=$pid
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  deadline=$((SECONDS + ${SVC_STOP_TIMEOUT:-15}))
  while ((${#pids[@]})); do
    for name in "${!pids[@]}"; do
      if _pid_gone "${pids[$name]}"; then
        log "$name stopped"
        unset "pids[$name]"
      fi
    done
    ((${#pids[@]})) || break
    if ((SECONDS >= deadline)); then
      for name in "${!pids[@]}"; do
        log "$name (pid ${pids[$name]}) ignored SIGTERM for ${SVC_STOP_TIMEOUT:-15} s: SIGKILL"
        kill -KILL "${pids[$name]}" 2>/dev/null || true
        wait_for 5 _pid_gone "${pids[$name]}" || log "$name (pid ${pids[$name]}) survived SIGKILL"
      done
      break
    fi
    sleep 0.2
  done
  for name in "$@"; do rm -f -- "$(svc_pidfile "$inst" "$name")"; done
}

# ---------------------------------------------------------------------------------------------
# Build

# build_all [BUILD_DIR]: configures BUILD_DIR once (Ninja when installed, RelWithDebInfo) and
# builds everything. Later builds re-run CMake by themselves when CMakeLists.txt changes.
build_all() {
  local build=${1:-$REGSUITE_ROOT/build} generator=""
  if [[ -f $build/CMakeCache.txt ]]; then
    generator=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$build/CMakeCache.txt")
  fi
  if [[ -z $generator ]]; then
    if command -v ninja >/dev/null; then generator=Ninja; else generator="Unix Makefiles"; fi
  fi
  if [[ ! -f $build/build.ninja && ! -f $build/Makefile ]]; then
    cmake -S "$REGSUITE_ROOT" -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=RelWithDebInfo ||
      return 1
  fi
  cmake --build "$build" -j"$(nproc)"
}
