# shellcheck shell=bash
# The components started since the API server are healthy, and the node is Ready.
step_node() {
  wait_expected
  log "waiting for node $NODE_NAME to be Ready"
  wait_healthy kubelet 120 node_ready
  log "node $NODE_NAME Ready"
}

node_ready() {
  [[ "$(kubectl_admin get node "$NODE_NAME" \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}
