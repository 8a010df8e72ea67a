# shellcheck shell=bash
# The Prometheus add-on, installed on demand by `cluster.sh prometheus` (cluster/prometheus.sh),
# never by up: its namespace, Prometheus and its rules loader (addons/prometheus/*.yaml) and its
# configuration (addons/prometheus/config/, checked with promtool and put into the ConfigMap
# prometheus-config), rendered into $CONF/prometheus/. Its objects live in etcd like any others,
# so after down/up its pod comes back (up imports its images again when they are in the cache);
# its TSDB, an emptyDir, starts empty with each new pod. Installed by install_addon of
# lib/addons.sh, which uses the functions below.

PROMETHEUS_CONF="$CONF/prometheus"
# Prometheus' HTTP API through the API server's service proxy (what the tests and the analysis
# gate use; demo_orq/cluster_settings.py PROMETHEUS_PROXY).
PROMETHEUS_PROXY="/api/v1/namespaces/$PROMETHEUS_NAMESPACE/services/prometheus:http/proxy"

# Installs or updates the add-on and waits until Prometheus answers through the API server;
# returns at once when it is installed, healthy, and what the checkout would apply is what was
# applied. A changed configuration starts a new pod (its checksum is in the pod template).
install_prometheus() {
  install_addon prometheus prometheus "Prometheus $PROMETHEUS_VERSION and its rules loader"
}

# Its configuration checked, its images imported, its manifests applied; Prometheus Ready,
# answering, and each target scraped once (or a warning after 30 s).
deploy_prometheus() {  # t0
  local t0=$1
  check_prometheus_config
  import_image prometheus
  import_image rules-loader
  # The namespace, then the configuration, then what reads it.
  apply_admin -f "$PROMETHEUS_CONF/namespace.yaml" -f "$PROMETHEUS_CONF/config.yaml" \
    -f "$PROMETHEUS_CONF/prometheus.yaml"
  kubectl_prometheus rollout status deployment/prometheus --timeout=180s >/dev/null ||
    die "Prometheus not ready after 180s: $(kubectl_prometheus get pods 2>&1)"
  log "Prometheus ready ($(seconds_since "$t0")s)"
  local start=$SECONDS
  until prometheus_answers; do
    ((SECONDS - start < 60)) ||
      die "Prometheus does not answer at $PROMETHEUS_PROXY/-/ready through the API server after 60s"
    sleep 0.2
  done
  # Its first scrapes, so that a target it cannot reach shows now (a warning: Traefik, say,
  # may be down for its own reasons).
  start=$SECONDS
  until prometheus_scraped_once; do
    if ((SECONDS - start >= 30)); then
      log "warning: not every target scraped after 30s: $(prometheus_targets)"
      break
    fi
    sleep 0.5
  done
}

# config/ rendered and put into the ConfigMap prometheus-config (config.yaml), then the
# manifests, with the checksums of the configuration and of the rules loader's source (its tag
# stays the same: a new build must start a new pod all the same).
render_prometheus() {
  mkdir -p "$PROMETHEUS_CONF/config"
  local f config_sum loader_sum
  for f in "$CLUSTER_DIR"/addons/prometheus/config/*; do
    render "$f" "$PROMETHEUS_CONF/config/${f##*/}"
  done
  config_sum="$(cd "$PROMETHEUS_CONF/config" && sha256sum -- * | sha256sum | cut -d' ' -f1)"
  loader_sum="$(cd "$CLUSTER_DIR/images/rules-loader" && sha256sum -- * | sha256sum | cut -d' ' -f1)"
  (umask 077
   kubectl_admin create configmap prometheus-config --namespace "$PROMETHEUS_NAMESPACE" \
     --from-file "$PROMETHEUS_CONF/config" --dry-run=client -o yaml >"$PROMETHEUS_CONF/config.yaml")
  for f in "$CLUSTER_DIR"/addons/prometheus/*.yaml; do
    render "$f" "$PROMETHEUS_CONF/${f##*/}" "PROMETHEUS_CONFIG_SHA256=$config_sum" \
      "RULES_LOADER_SHA256=$loader_sum"
  done
}

# promtool (built with the image, build-images.sh) on the rendered configuration: its syntax
# (--syntax-only: the ServiceAccount's files are only in the pod) and the rules.
check_prometheus_config() {
  "$PROMTOOL" check config --syntax-only "$PROMETHEUS_CONF/config/prometheus.yml" >/dev/null ||
    die "promtool refuses $PROMETHEUS_CONF/config/prometheus.yml (from addons/prometheus/config/)"
  "$PROMTOOL" check rules "$PROMETHEUS_CONF/config/rules.yaml" >/dev/null ||
    die "promtool refuses $PROMETHEUS_CONF/config/rules.yaml (from addons/prometheus/config/)"
}

kubectl_prometheus() { kubectl_admin -n "$PROMETHEUS_NAMESPACE" "$@"; }

# GET PATH of Prometheus' HTTP API through the API server (PATH starts with /).
prometheus_get() { kubectl_admin get --raw "$PROMETHEUS_PROXY$1" 2>/dev/null; }

prometheus_answers() { [[ "$(prometheus_get /-/ready)" == *"Ready"* ]]; }

prometheus_healthy() {
  image_imported "$PROMETHEUS_IMAGE" && image_imported "$RULES_LOADER_IMAGE" &&
    prometheus_ready && prometheus_answers
}

prometheus_installed() {
  [[ -n "$(kubectl_prometheus get deployment prometheus --ignore-not-found -o name 2>/dev/null)" ]]
}

# The one replica is Ready and up to date.
prometheus_ready() {
  local replicas
  replicas="$(kubectl_prometheus get deployment prometheus \
                -o jsonpath='{.spec.replicas} {.status.readyReplicas} {.status.updatedReplicas}' \
                2>/dev/null)" || return 1
  [[ "$replicas" =~ ^([1-9][0-9]*)\ ([0-9]+)\ ([0-9]+)$ ]] &&
    [[ ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" && ${BASH_REMATCH[1]} == "${BASH_REMATCH[3]}" ]]
}

# The scrape targets that are up, of all.
prometheus_targets() {
  prometheus_get "/api/v1/targets?state=active" | python3 -c '
import json, sys
targets = json.load(sys.stdin)["data"]["activeTargets"]
up = sum(target["health"] == "up" for target in targets)
print(f"{up}/{len(targets)} targets up")
' 2>/dev/null || echo "targets unknown"
}

# Every active target was scraped at least once (its health is no longer "unknown").
prometheus_scraped_once() {
  prometheus_get "/api/v1/targets?state=active" | python3 -c '
import json, sys
targets = json.load(sys.stdin)["data"]["activeTargets"]
sys.exit(not targets or any(target["health"] == "unknown" for target in targets))
' 2>/dev/null
}

prometheus_summary() {
  echo "Prometheus $PROMETHEUS_VERSION in $PROMETHEUS_NAMESPACE, $(prometheus_targets); API" \
    "through the API server at $PROMETHEUS_PROXY/api/v1/"
}
