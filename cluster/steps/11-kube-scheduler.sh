# shellcheck shell=bash
# Places the pods on the node.
step_kube_scheduler() {
  start_kube_scheduler
  expect_healthy kube-scheduler 60
}

start_kube_scheduler() {
  local kc="$CONF/kube-scheduler.kubeconfig"
  start_component kube-scheduler "$KUBE_BIN/kube-scheduler" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --profiling=false \
    --cert-dir="$PKI/scheduler-generated"
}

# It allows /healthz to anyone (only on 127.0.0.1); its serving cert is self-signed.
health_kube_scheduler() { curl -sfk --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz"; }
