# shellcheck shell=bash
# Sourced by the benchmarks that report CPU time per call (bench/gateway, bench/licensing).

# The pid listening on TCP port $1.
listener_pid() { ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2; }

# cpu_ticks PID [alone]: user + system CPU of a process and its child processes (nginx workers,
# PostgreSQL backends), in clock ticks; with `alone`, of the process only (Redis: its snapshot
# child may exit during the window).
cpu_ticks() {
  local total=0 p children=
  [[ ${2:-} == alone ]] || children=$(pgrep -P "$1" || true)
  for p in "$1" $children; do
    [[ -r /proc/$p/stat ]] && total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}

# ticks_to_ms_per TICKS CALLS: milliseconds of CPU per call.
ticks_to_ms_per() {
  awk -v d="$1" -v hz="$(getconf CLK_TCK)" -v n="$2" 'BEGIN {printf "%.2f", (n > 0 ? d / hz * 1e3 / n : 0)}'
}
