# shellcheck shell=bash
# The network-policies add-on, installed on demand by `cluster.sh network-policies`
# (cluster/network-policies.sh), never by up: the NetworkPolicy agent of kube-network-policies,
# a DaemonSet in the node's network namespace (addons/network-policies/, rendered into
# $CONF/network-policies/). It puts the nftables table `inet kube-network-policies` on the node
# and judges the first packet of every connection to or from a pod that a NetworkPolicy selects,
# read from netfilter queue $NETWORK_POLICIES_NFQUEUE_ID. Its objects live in etcd like any
# others, so after down/up its pod comes back (up imports its image when it is in the cache).
# Installed by install_addon of lib/addons.sh, which uses the functions below.

NETWORK_POLICIES_CONF="$CONF/network-policies"

# Installs or updates the add-on and waits until the agent is Ready and reads its queue; returns
# at once when it is installed, healthy, and what the checkout would apply is what was applied.
install_network_policies() {
  install_addon network-policies network-policies \
    "kube-network-policies $NETWORK_POLICIES_VERSION"
}

# Its image imported, its manifests applied; the agent Ready and reading its queue.
deploy_network_policies() {  # t0
  local t0=$1
  import_image kube-network-policies
  log "image ready ($(seconds_since "$t0")s)"
  apply_admin -f "$NETWORK_POLICIES_CONF/namespace.yaml" -f "$NETWORK_POLICIES_CONF/agent.yaml"
  kubectl_network_policies rollout status daemonset/kube-network-policies --timeout=120s \
    >/dev/null || die "kube-network-policies not ready after 120s: $(
      kubectl_network_policies get pods 2>&1)"
  wait_network_policies_queue
}

kubectl_network_policies() { kubectl_admin -n "$NETWORK_POLICIES_NAMESPACE" "$@"; }

# Ready says /metrics answers, which it does before the agent has written its rules; it reads
# its queue only after (the rules first, then the queue): that is when it enforces.
wait_network_policies_queue() {
  local start=$SECONDS
  until network_policies_queue_bound; do
    ((SECONDS - start < 60)) ||
      die "kube-network-policies reads no netfilter queue $NETWORK_POLICIES_NFQUEUE_ID after 60s: $(
        kubectl_network_policies logs daemonset/kube-network-policies --tail=20 2>&1)"
    sleep 0.2
  done
}

network_policies_healthy() {
  image_imported "$NETWORK_POLICIES_IMAGE" && network_policies_agent_ready &&
    network_policies_queue_bound
}

network_policies_installed() {
  [[ -n "$(kubectl_network_policies get daemonset kube-network-policies --ignore-not-found \
           -o name 2>/dev/null)" ]]
}

# Every scheduled pod of the DaemonSet is Ready and up to date.
network_policies_agent_ready() {
  local counts
  counts="$(kubectl_network_policies get daemonset kube-network-policies -o jsonpath='{.status.desiredNumberScheduled} {.status.numberReady} {.status.updatedNumberScheduled}' \
              2>/dev/null)" || return 1
  [[ "$counts" =~ ^([1-9][0-9]*)\ ([0-9]+)\ ([0-9]+)$ ]] &&
    [[ ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" && ${BASH_REMATCH[1]} == "${BASH_REMATCH[3]}" ]]
}

# A process reads the queue (the kernel lists a queue while a socket is bound to it).
network_policies_queue_bound() {
  awk -v q="$NETWORK_POLICIES_NFQUEUE_ID" '$1 == q { found = 1 } END { exit !found }' \
    /proc/net/netfilter/nfnetlink_queue 2>/dev/null
}

network_policies_summary() {
  echo "kube-network-policies $NETWORK_POLICIES_VERSION in $NETWORK_POLICIES_NAMESPACE, netfilter" \
    "queue $NETWORK_POLICIES_NFQUEUE_ID"
}
