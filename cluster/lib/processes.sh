# shellcheck shell=bash
# The components as processes: started with their PID recorded, stopped by process group, waited
# for until healthy. A step of steps/ that defines start_NAME and health_NAME is a component.

# Prints the PID of a component we started if it is still alive. The command
# line must mention the state dir, so a recycled PID is never taken for ours.
running_pid() {
  local f="$RUN/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(<"$f")"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
  [[ "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" == *"$STATE_DIR"* ]] || return 1
  echo "$pid"
}

start_component() {  # name command...
  local name=$1; shift
  mkdir -p "$LOGS" "$RUN"
  printf '\n===== %s starting %s\n' "$(date -Is)" "$name" >>"$LOGS/$name.log"
  # setsid: each component leads its own process group, which down kills whole.
  # (containerd's shims make their own groups, so they outlive a containerd restart.)
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

start_one() { "start_${1//-/_}"; }  # component
health() { "health_${1//-/_}"; }    # component: one quick health probe

wait_gone() {  # pid seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [[ -d "/proc/$1" ]] || return 0
    sleep 0.1
  done
  return 1
}

# SIGTERM (or the signal in $STOP_SIGNAL) to each component's process group at once, then
# wait; SIGKILL the slow ones.
stop_components() {
  local signal="${STOP_SIGNAL:-TERM}" name pid pids=() names=()
  for name in "$@"; do
    if pid="$(running_pid "$name")"; then
      log "stopping $name (pid $pid, SIG$signal)"
      kill "-$signal" -- "-$pid" 2>/dev/null || kill "-$signal" "$pid" 2>/dev/null || true
      pids+=("$pid") names+=("$name")
    fi
  done
  local i
  for i in "${!pids[@]}"; do
    # 10s: the apiserver otherwise waits up to a minute for clients' open watches.
    if ! wait_gone "${pids[i]}" 10; then
      log "${names[i]} did not exit after SIG$signal; sending SIGKILL"
      kill -KILL -- "-${pids[i]}" 2>/dev/null || kill -KILL "${pids[i]}" 2>/dev/null || true
      wait_gone "${pids[i]}" 10 || die "could not stop ${names[i]} (pid ${pids[i]})"
    fi
  done
  for name in "$@"; do rm -f "$RUN/$name.pid"; done
}

show_log() {
  printf -- '----- last lines of %s -----\n' "$LOGS/$1.log" >&2
  tail -n 25 "$LOGS/$1.log" >&2 2>/dev/null || true
  printf -- '-----\n' >&2
}

wait_healthy() {  # name timeout-seconds check-command...
  local name=$1 timeout=$2 start=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    if ! running_pid "$name" >/dev/null; then
      show_log "$name"
      die "$name exited during start-up (log: $LOGS/$name.log)"
    fi
    if ((SECONDS - start >= timeout)); then
      show_log "$name"
      die "$name not healthy after ${timeout}s (log: $LOGS/$name.log)"
    fi
    sleep 0.3
  done
}

# Components started by up and not waited for yet, each with its start-up budget in seconds.
# A step that needs them calls wait_expected; starting several before waiting for any lets them
# come up side by side.
EXPECTED=()
expect_healthy() { EXPECTED+=("$1 $2"); }  # component seconds

wait_expected() {
  local entry name seconds
  for entry in "${EXPECTED[@]}"; do
    read -r name seconds <<<"$entry"
    wait_healthy "$name" "$seconds" health "$name" && log "$name healthy"
  done
  EXPECTED=()
}
