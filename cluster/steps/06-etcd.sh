# shellcheck shell=bash
# etcd serves TLS on 127.0.0.1 only and accepts only clients with a certificate of its own CA
# (the API server's, and the health check's); peers likewise (CIS 2.1-2.6).
step_etcd() {
  start_etcd
  expect_healthy etcd 30
}

start_etcd() {
  local client="https://127.0.0.1:$ETCD_CLIENT_PORT" peer="https://127.0.0.1:$ETCD_PEER_PORT"
  start_component etcd etcd --name demo-orq --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "demo-orq=$peer" --listen-metrics-urls "" \
    --cert-file "$PKI/etcd-server.crt" --key-file "$PKI/etcd-server.key" \
    --client-cert-auth --trusted-ca-file "$PKI/etcd-ca.crt" \
    --peer-cert-file "$PKI/etcd-peer.crt" --peer-key-file "$PKI/etcd-peer.key" \
    --peer-client-cert-auth --peer-trusted-ca-file "$PKI/etcd-ca.crt" \
    --quota-backend-bytes 2147483648 --log-level warn
}

health_etcd() {
  [[ "$(curl_as etcd-ca etcd-healthcheck-client "https://127.0.0.1:$ETCD_CLIENT_PORT/health")" \
       == *'"health":"true"'* ]]
}
