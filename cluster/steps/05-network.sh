# shellcheck shell=bash
# The project's bridge carrying the node IP, before any component starts; the machine's sysctls
# saved first, for down to restore.

# Sysctls the kubelet, kube-proxy and the CNI bridge change.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
         kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward
         net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables)

step_network() {
  save_sysctls
  # The CNI bridge plugin accepts an existing bridge that carries exactly its
  # gateway address, so the node IP (= gateway) exists before the first pod.
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip addr replace "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
}

save_sysctls() {
  [[ -f "$RUN/sysctl.saved" ]] && return 0   # keep the values from before the first up
  mkdir -p "$RUN"
  local s
  for s in "${SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s" 2>/dev/null)"; done >"$RUN/sysctl.saved.tmp"
  mv "$RUN/sysctl.saved.tmp" "$RUN/sysctl.saved"
}
