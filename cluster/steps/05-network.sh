# shellcheck shell=bash
# The project's bridge carrying the node IP, before any component starts; the machine's sysctls
# saved first, for down to restore; the Service range kept inside the machine.

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
  confine_service_range
}

# A ClusterIP that kube-proxy has not programmed yet (a Service created a moment ago) has no
# route of its own: its packets would follow the default route out of the machine, and whatever
# answers there would pass for the Service (a smoke test once got a 404 from outside). Once
# kube-proxy has translated a ClusterIP into a pod's address, nothing here matches it; what is
# left is refused at once, so that the client retries. Its own chain, removed by down.
SERVICE_RANGE_CHAIN=DEMOORQ-SERVICE-RANGE
confine_service_range() {
  iptables -w -N "$SERVICE_RANGE_CHAIN" 2>/dev/null || iptables -w -F "$SERVICE_RANGE_CHAIN"
  iptables -w -A "$SERVICE_RANGE_CHAIN" -d "$SERVICE_CIDR" -p tcp -j REJECT --reject-with tcp-reset
  iptables -w -A "$SERVICE_RANGE_CHAIN" -d "$SERVICE_CIDR" -j REJECT
  local hook
  for hook in FORWARD OUTPUT; do
    iptables -w -C "$hook" -j "$SERVICE_RANGE_CHAIN" 2>/dev/null ||
      iptables -w -A "$hook" -j "$SERVICE_RANGE_CHAIN"
  done
}

save_sysctls() {
  [[ -f "$RUN/sysctl.saved" ]] && return 0   # keep the values from before the first up
  mkdir -p "$RUN"
  local s
  for s in "${SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s" 2>/dev/null)"; done >"$RUN/sysctl.saved.tmp"
  mv "$RUN/sysctl.saved.tmp" "$RUN/sysctl.saved"
}
