# shellcheck shell=bash
# The gateway add-on, installed on demand by `cluster.sh gateway` (cluster/gateway.sh), never by
# up: the Gateway API CRDs (standard channel, from the sigs.k8s.io/gateway-api module) and Traefik
# (addons/gateway/, rendered into $CONF/gateway/). Its objects live in etcd like any others, so
# after down/up its pod comes back (up imports its image again when the image is in the cache).

GATEWAY_CONF="$CONF/gateway"
# What was applied last (the rendered manifests and the CRDs), so that a second run is a no-op.
GATEWAY_APPLIED="$CONF/gateway.applied.sha256"

# Installs or updates the add-on and waits until it serves; returns at once when it is
# installed, healthy, and what the checkout would apply is what was applied.
install_gateway() {
  local t0=$EPOCHREALTIME crds sum
  crds="$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")/config/crd/standard"
  render_addon gateway "$GATEWAY_CONF"
  sum="$(cat "$crds"/*.yaml "$GATEWAY_CONF"/*.yaml | sha256sum | cut -d' ' -f1)"
  if [[ "$(cat "$GATEWAY_APPLIED" 2>/dev/null)" == "$sum" ]] && gateway_healthy; then
    log "gateway add-on already installed and healthy ($(gateway_summary))"
    return 0
  fi
  log "installing the gateway add-on (Gateway API $GATEWAY_API_VERSION, Traefik $TRAEFIK_VERSION)"
  "$CLUSTER_DIR/build-images.sh" gateway
  import_image traefik
  apply_admin -f "$crds"
  kubectl_admin wait --for condition=Established --timeout=60s -f "$crds" >/dev/null
  log "Gateway API CRDs established ($(seconds_since "$t0")s)"
  apply_admin -f "$GATEWAY_CONF"
  kubectl_gateway rollout status deployment/traefik --timeout=120s >/dev/null ||
    die "Traefik not ready after 120s: $(kubectl_gateway get pods 2>&1)"
  log "Traefik ready ($(seconds_since "$t0")s)"
  wait_gateway_class_accepted
  echo "$sum" >"$GATEWAY_APPLIED"
  log "gateway add-on installed in $(seconds_since "$t0")s ($(gateway_summary))"
}

kubectl_gateway() { kubectl_admin -n "$GATEWAY_NAMESPACE" "$@"; }

apply_admin() {
  kubectl_admin apply --server-side --force-conflicts --field-manager=demo-orq "$@" >/dev/null
}

wait_gateway_class_accepted() {
  local start=$SECONDS
  until gateway_class_accepted; do
    ((SECONDS - start < 60)) || die "GatewayClass $GATEWAY_CLASS not Accepted after 60s: $(
      kubectl_admin get gatewayclass "$GATEWAY_CLASS" -o jsonpath='{.status.conditions}' 2>&1)"
    sleep 0.2
  done
}

gateway_healthy() {
  image_imported "$TRAEFIK_IMAGE" && traefik_ready && gateway_class_accepted
}

gateway_installed() {
  [[ -n "$(kubectl_gateway get deployment traefik --ignore-not-found -o name 2>/dev/null)" ]]
}

# Every replica of the Deployment is Ready.
traefik_ready() {
  local replicas
  replicas="$(kubectl_gateway get deployment traefik \
                -o jsonpath='{.spec.replicas} {.status.readyReplicas}' 2>/dev/null)" || return 1
  [[ "$replicas" =~ ^([1-9][0-9]*)\ ([0-9]+)$ && ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]]
}

gateway_class_accepted() {
  [[ "$(kubectl_admin get gatewayclass "$GATEWAY_CLASS" \
        -o jsonpath='{.status.conditions[?(@.type=="Accepted")].status}' 2>/dev/null)" == True ]]
}

gateway_summary() {
  echo "GatewayClass $GATEWAY_CLASS; listeners on port $GATEWAY_HTTP_PORT (HTTP) at" \
    "127.0.0.1:$GATEWAY_HTTP_NODE_PORT, on port $GATEWAY_HTTPS_PORT (HTTPS) at" \
    "127.0.0.1:$GATEWAY_HTTPS_NODE_PORT"
}
