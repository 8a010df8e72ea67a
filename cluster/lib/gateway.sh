# shellcheck shell=bash
# The gateway add-on, installed on demand by `cluster.sh gateway` (cluster/gateway.sh), never by
# up: the Gateway API CRDs (standard channel, from the sigs.k8s.io/gateway-api module) and Traefik
# (addons/gateway/, rendered into $CONF/gateway/). Its objects live in etcd like any others, so
# after down/up its pod comes back (up imports its image again when the image is in the cache).
# Installed by install_addon of lib/addons.sh, which uses the functions below.

GATEWAY_CONF="$CONF/gateway"
# The Gateway API CRDs (a folder of the module), part of what is applied (and of its checksum).
GATEWAY_CRDS=""

# Installs or updates the add-on and waits until it serves; returns at once when it is
# installed, healthy, and what the checkout would apply is what was applied.
install_gateway() {
  GATEWAY_CRDS="$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")/config/crd/standard"
  install_addon gateway gateway "Gateway API $GATEWAY_API_VERSION, Traefik $TRAEFIK_VERSION" \
    "$GATEWAY_CRDS"/*.yaml
}

# Its image imported, the CRDs applied and Established, its manifests applied; Traefik Ready and
# the GatewayClass Accepted.
deploy_gateway() {  # t0
  local t0=$1
  import_image traefik
  apply_admin -f "$GATEWAY_CRDS"
  kubectl_admin wait --for condition=Established --timeout=60s -f "$GATEWAY_CRDS" >/dev/null
  log "Gateway API CRDs established ($(seconds_since "$t0")s)"
  apply_admin -f "$GATEWAY_CONF"
  kubectl_gateway rollout status deployment/traefik --timeout=120s >/dev/null ||
    die "Traefik not ready after 120s: $(kubectl_gateway get pods 2>&1)"
  log "Traefik ready ($(seconds_since "$t0")s)"
  wait_gateway_class_accepted
}

kubectl_gateway() { kubectl_admin -n "$GATEWAY_NAMESPACE" "$@"; }

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
