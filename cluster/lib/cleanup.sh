# shellcheck shell=bash
# Stopping the cluster and cleaning the host: what down does, and what up does first so that
# the leftovers of an unclean stop are never a reason to fail.

# Processes the cluster started indirectly: containers (in the kubepods cgroups)
# and containerd's shims (their command line names our containerd socket).
leftover_pids() {
  find /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods -name cgroup.procs \
    -exec cat {} + 2>/dev/null || true
  local p
  for p in /proc/[0-9]*; do
    if [[ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" == *"-address $CONTAINERD_SOCK "* ]]; then
      echo "${p#/proc/}"
    fi
  done
  return 0
}

kill_leftovers() {
  local pids
  pids="$(leftover_pids | sort -u)"
  [[ -n "$pids" ]] || return 0
  log "killing $(wc -w <<<"$pids") container and shim processes"
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  local pid
  for pid in $pids; do wait_gone "$pid" 10 || log "warning: pid $pid still alive"; done
}

our_mounts() {
  awk -v s="$STATE_DIR/" 'index($5, s) == 1 || $5 ~ "^(/var)?/run/netns/cni-" { print $5 }' \
    /proc/self/mountinfo | sort -ru
}

unmount_all() {
  local pass m mounts
  for pass in 1 2 3 4 5; do
    mounts="$(our_mounts)"
    [[ -n "$mounts" ]] || break
    ((pass > 1)) || log "unmounting $(wc -l <<<"$mounts") mounts"
    while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done <<<"$mounts"
  done
  [[ -z "$(our_mounts)" ]] || log "warning: mounts left: $(our_mounts | tr '\n' ' ')"
  rm -f /run/netns/cni-* 2>/dev/null || true
  rmdir /run/netns 2>/dev/null || true   # only when empty: others may use it
}

# Delete the KUBE-*, CNI-* and DEMOORQ-* chains and every rule jumping to them.
clean_iptables() {  # iptables | ip6tables
  local ipt=$1 table rules chains jumps c
  command -v "$ipt-save" >/dev/null || return 0
  for table in filter nat mangle raw; do
    rules="$("$ipt-save" -t "$table" 2>/dev/null)" || continue
    chains="$(grep -oE '^:(KUBE|CNI|DEMOORQ)-[^ ]+' <<<"$rules" | cut -c2- || true)"
    jumps="$(grep -E '^-A .* -j (KUBE|CNI|DEMOORQ)-' <<<"$rules" | grep -vE '^-A (KUBE|CNI|DEMOORQ)-' || true)"
    [[ -n "$chains$jumps" ]] || continue
    {
      echo "*$table"
      # shellcheck disable=SC2001  # only the leading -A may change
      [[ -z "$jumps" ]] || sed 's/^-A /-D /' <<<"$jumps"
      for c in $chains; do echo "-F $c"; done
      for c in $chains; do echo "-X $c"; done
      echo COMMIT
    } | "$ipt-restore" --noflush || log "warning: could not clean $ipt table $table"
  done
}

remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [[ -d "$d" ]] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}

# The values that the network step saved before the components changed them.
restore_sysctls() {
  [[ -f "$RUN/sysctl.saved" ]] || return 0
  local line
  while read -r line; do
    if [[ "$line" == *=?* ]]; then sysctl -qw "$line" 2>/dev/null || true; fi
  done <"$RUN/sysctl.saved"
  rm -f "$RUN/sysctl.saved"
}

# containerd 1.6 puts shim sockets in /run/containerd/s whatever its state dir;
# a killed shim leaves its socket behind. Nobody listens on a stale one.
remove_stale_shim_sockets() {
  local listening f
  listening="$(ss -Hxl | awk '{print $5}')"
  for f in /run/containerd/s/*; do
    if [[ -S "$f" ]] && ! grep -qxF "$f" <<<"$listening"; then rm -f "$f"; fi
  done
  rmdir /run/containerd/s /run/containerd 2>/dev/null || true
}

# Everything down does after the processes are stopped.
clean_host() {
  kill_leftovers
  unmount_all
  local veth
  for veth in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link del "$veth" 2>/dev/null || true
  done
  if ip link del "$BRIDGE" 2>/dev/null; then log "removed network device $BRIDGE"; fi
  clean_iptables iptables
  clean_iptables ip6tables
  conntrack -D -d "$POD_CIDR" >/dev/null 2>&1 || true
  remove_cgroups
  # Pod IP reservations, shim sockets and container log links of dead pods.
  rm -rf "$STATE_DIR/cni/networks"
  remove_stale_shim_sockets
  find /var/log/containers -maxdepth 1 -type l -lname "$LOGS/*" -delete 2>/dev/null || true
  rm -f "$CONTAINERD_SOCK" "$CONTAINERD_SOCK.ttrpc"
  restore_sysctls
}

stop_all() {
  stop_components kube-proxy kubelet kube-scheduler kube-controller-manager
  kill_leftovers  # containers and shims go before containerd, or they outlive it
  stop_components containerd kube-apiserver
  stop_components etcd
  clean_host
}
