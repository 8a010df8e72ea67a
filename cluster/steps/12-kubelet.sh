# shellcheck shell=bash
# The node: its config is templates/kubelet.yaml (rendered by the configs step).
step_kubelet() {
  start_kubelet
  expect_healthy kubelet 60
}

# --containerd: the kubelet's cAdvisor finds containerd there (its default is
# /run/containerd/containerd.sock), or it knows the pods' cgroups but not their containers and
# /metrics/cadvisor has no series per container (a deprecated flag of v1.30, still read).
start_kubelet() {
  start_component kubelet "$KUBE_BIN/kubelet" \
    --config="$CONF/kubelet.yaml" --kubeconfig="$CONF/kubelet.kubeconfig" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
    --root-dir="$KUBELET_ROOT" --cert-dir="$KUBELET_ROOT/pki" \
    --volume-plugin-dir="$KUBELET_ROOT/volume-plugins" --containerd="$CONTAINERD_SOCK"
}

health_kubelet() { curl -sf --max-time 2 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"; }
