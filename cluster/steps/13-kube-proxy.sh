# shellcheck shell=bash
# Services and NodePorts (iptables mode); its config is templates/kube-proxy.yaml.
step_kube_proxy() {
  start_kube_proxy
  expect_healthy kube-proxy 60
}

start_kube_proxy() {
  start_component kube-proxy "$KUBE_BIN/kube-proxy" --config="$CONF/kube-proxy.yaml"
}

health_kube_proxy() { curl -sf --max-time 2 "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"; }
