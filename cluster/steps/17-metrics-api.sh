# shellcheck shell=bash
# metrics-server serves the metrics API (`kubectl top`).
step_metrics_api() {
  wait_addon "the metrics API" metrics_api_serves
  log "metrics API serves (metrics.k8s.io)"
}

# The aggregated metrics API answers (through the API server, from metrics-server).
metrics_api_serves() {
  kubectl_admin get --raw /apis/metrics.k8s.io/v1beta1/nodes --request-timeout=3s >/dev/null 2>&1
}
