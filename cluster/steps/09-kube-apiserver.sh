# shellcheck shell=bash
# Listens on the node IP (the project's bridge), not on 127.0.0.1: that address is the
# endpoint of the `kubernetes` Service, so pods reach it; nothing listens on the
# machine's own interfaces. Anonymous requests are refused (CIS 1.2.1). PodSecurity is among
# the default admission plugins; --enable-admission-plugins only adds NodeRestriction.
# Everything after it needs it: up waits until it is ready.
# Secrets are encrypted in etcd (secretbox, the key in $PKI/encryption-config.yaml, made by the
# pki step) and the API writes an audit log ($LOGS/kube-apiserver-audit.log, 0600; policy
# templates/audit-policy.yaml: Secrets, ConfigMaps and tokens at Metadata, never their values).
# No --encryption-provider-config-automatic-reload: a key rotation restarts this one API server
# (seconds), which also says at once when the file is wrong, and rewrites the Secrets after it,
# when the new key is surely in use (with the reload, up to a minute later).
step_kube_apiserver() {
  start_kube_apiserver
  expect_healthy kube-apiserver 90
  wait_expected
  encrypt_existing_secrets
}

start_kube_apiserver() {
  start_component kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --etcd-servers="https://127.0.0.1:$ETCD_CLIENT_PORT" --etcd-cafile="$PKI/etcd-ca.crt" \
    --etcd-certfile="$PKI/apiserver-etcd-client.crt" --etcd-keyfile="$PKI/apiserver-etcd-client.key" \
    --bind-address="$NODE_IP" --secure-port="$APISERVER_PORT" --advertise-address="$NODE_IP" \
    --anonymous-auth=false \
    --tls-cert-file="$PKI/kube-apiserver.crt" --tls-private-key-file="$PKI/kube-apiserver.key" \
    --tls-min-version=VersionTLS12 --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
    --proxy-client-key-file="$PKI/front-proxy-client.key" --enable-aggregator-routing=true \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --service-node-port-range="$NODE_PORT_RANGE" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --profiling=false --cert-dir="$PKI/apiserver-generated" \
    --encryption-provider-config="$PKI/encryption-config.yaml" \
    --audit-policy-file="$CONF/audit-policy.yaml" --audit-log-path="$LOGS/kube-apiserver-audit.log" \
    --audit-log-maxsize=50 --audit-log-maxbackup=3
}

# Every Secret written again, once per encryption key (the first of the config; the name of the
# last one done is in $CONF/secrets.encrypted-with): those stored in plaintext before the
# cluster encrypted, or with an older key, are then stored with it (the documented
# `kubectl get secrets -A -o json | kubectl replace -f -`, through a pipe only). A Secret
# changed or deleted meanwhile was written or removed by someone else: that is as good.
encrypt_existing_secrets() {
  local key marker="$CONF/secrets.encrypted-with" out errors
  key="$(encryption_key_name)"
  [[ -f "$marker" && "$(<"$marker")" == "$key" ]] && return 0
  out="$(kubectl_admin get secrets -A -o json | kubectl_admin replace -f - 2>&1)" || true
  errors="$(grep -v -e ' replaced$' -e 'the object has been modified' -e '(NotFound)' \
              -e 'no objects passed to replace' <<<"$out" || true)"
  [[ -z "$errors" ]] || die "could not rewrite every Secret with encryption key $key: $errors"
  printf '%s\n' "$key" >"$marker"
  log "every Secret rewritten with encryption key $key ($(grep -c ' replaced$' <<<"$out" || true) Secrets)"
}

# The API server runs with the command line this checkout gives it.
kube_apiserver_as_configured() {
  local pid
  pid="$(running_pid kube-apiserver)" || return 1
  [[ "$(tr '\0' '\n' <"/proc/$pid/cmdline")" == \
       "$(start_component() { shift; printf '%s\n' "$@"; }; start_kube_apiserver)" ]]
}

# For up on a healthy cluster: an API server started with other flags than this checkout's (one
# from before Secrets were encrypted), or with an older audit policy, is restarted with them,
# its files made first; then the Secrets are rewritten when they were not with the current key.
update_kube_apiserver() {
  if ! kube_apiserver_as_configured ||
     [[ "$CLUSTER_DIR/templates/audit-policy.yaml" -nt "$CONF/audit-policy.yaml" ]]; then
    log "kube-apiserver runs with other flags or audit policy than this checkout's: restarting it"
    step_pki
    step_configs
    cmd_restart kube-apiserver
  fi
  encrypt_existing_secrets
}

# The health checks use the admin's certificate: the API server answers no anonymous request.
health_kube_apiserver() { curl_as ca admin "$APISERVER_URL/readyz"; }

# For status: how Secrets are stored in etcd, and where the audit log is.
secrets_at_rest_summary() {
  if kube_apiserver_as_configured; then
    printf 'encrypted (%s, key %s); audit log %s\n' \
      "$(awk '/providers:/ { p = 1; next } p && $1 == "-" { sub(":", "", $2); print $2; exit }' \
           "$PKI/encryption-config.yaml")" "$(encryption_key_name)" "$LOGS/kube-apiserver-audit.log"
  else
    echo "the API server runs without this checkout's flags (cluster/up.sh restarts it)"
  fi
}
