# shellcheck shell=bash
# The controllers, each with its own ServiceAccount; it signs the kubelet's certificates too.
step_kube_controller_manager() {
  start_kube_controller_manager
  expect_healthy kube-controller-manager 60
}

start_kube_controller_manager() {
  local kc="$CONF/kube-controller-manager.kubeconfig"
  start_component kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --secure-port="$CONTROLLER_MANAGER_PORT" --leader-elect=false \
    --controllers='*' \
    --use-service-account-credentials=true --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" --cluster-name=demo-orq \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false \
    --cert-dir="$PKI/controller-manager-generated"
}

# It allows /healthz to anyone (only on 127.0.0.1); its serving cert is self-signed.
health_kube_controller_manager() {
  curl -sfk --max-time 2 "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz"
}
