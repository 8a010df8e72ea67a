# shellcheck shell=bash
# The components' kubeconfigs and configs, and the add-ons' manifests, rendered from templates/
# and addons/ into the state dir.
step_configs() {
  mkdir -p "$CONF/cni" "$CONF/addons" "$LOGS/pods" "$STATE_DIR/etcd" "$KUBELET_ROOT"
  chmod 700 "$CONF" "$STATE_DIR/etcd"
  local c
  for c in admin kube-controller-manager kube-scheduler kubelet kube-proxy; do
    write_kubeconfig "$CONF/$c.kubeconfig" "$c"
  done
  render "$CLUSTER_DIR/templates/containerd.toml" "$CONF/containerd.toml"
  render "$CLUSTER_DIR/templates/cni.conflist" "$CONF/cni/10-demo-orq.conflist"
  render "$CLUSTER_DIR/templates/kubelet.yaml" "$CONF/kubelet.yaml"
  render "$CLUSTER_DIR/templates/kube-proxy.yaml" "$CONF/kube-proxy.yaml"
  render "$CLUSTER_DIR/templates/audit-policy.yaml" "$CONF/audit-policy.yaml"
  for c in "$CLUSTER_DIR"/addons/*.yaml; do
    render "$c" "$CONF/addons/${c##*/}" "CA_BUNDLE=$(base64 -w0 "$PKI/ca.crt")"
  done
}

write_kubeconfig() {  # file cert-name
  local out=$1 user=$2
  mkdir -p "$(dirname "$out")"
  render "$CLUSTER_DIR/templates/kubeconfig.yaml" "$out" "USER_NAME=$user" \
    "CA_DATA=$(base64 -w0 "$PKI/ca.crt")" "CERT_DATA=$(base64 -w0 "$PKI/$user.crt")" \
    "KEY_DATA=$(base64 -w0 "$PKI/$user.key")"
}
