# shellcheck shell=bash
# Whatever an earlier run left (an unclean stop included) is stopped and cleaned as down would;
# then no other program may hold one of the cluster's ports.
step_leftovers() {
  log "cleaning up leftovers of earlier runs"
  stop_all
  check_ports_free
}

# Run only when none of our components is running: any listener is someone else's.
check_ports_free() {
  local port busy=()
  for port in "${HOST_PORTS[@]}"; do
    [[ -z "$(ss -Hltn "sport = :$port")" ]] || busy+=("$port")
  done
  if ((${#busy[@]})); then
    ss -Hltnp | grep -E ":($(IFS='|'; echo "${busy[*]}")) " >&2 || true
    die "port(s) already in use by another program: ${busy[*]}"
  fi
}
