# shellcheck shell=bash disable=SC2034  # settings used by the scripts that source this file
# Shared settings and helpers for the demo-orq local cluster scripts.
# Sourced by cluster.sh, build-kubernetes.sh, build-images.sh, install-packages.sh.

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The plain values (versions, images, addresses, ports), shared with Python.
# shellcheck source=cluster/settings.env
source "$CLUSTER_DIR/settings.env"
KUBE_VERSION="${DEMO_ORQ_KUBE_VERSION:-$KUBE_VERSION}"
GO_TOOLCHAIN_FOR_KUBE="${DEMO_ORQ_GO_TOOLCHAIN:-$GO_TOOLCHAIN_FOR_KUBE}"

CACHE_DIR="${DEMO_ORQ_CACHE:-$HOME/.cache/demo-orq}"
KUBE_BIN="$CACHE_DIR/kubernetes/$KUBE_VERSION/bin"
IMAGES_DIR="$CACHE_DIR/images"
STATE_DIR="${DEMO_ORQ_STATE:-/var/lib/demo-orq}"
KUBECONFIG_OUT="${DEMO_ORQ_KUBECONFIG:-$HOME/.kube/demo-orq.kubeconfig}"

KUBE_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

# The version of a Go module that images/<name>/go.mod requires (the one place it is written).
module_version() {  # image-name module-path
  awk -v m="$2" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }' \
    "$CLUSTER_DIR/images/$1/go.mod"
}

# The folder of a published Go module in the module cache, downloaded (from the Go module proxy)
# when missing.
module_dir() {  # module@version
  (cd / && go mod download -json "$1") |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])'
}

# The add-ons' images, tagged with the versions their go.mod pins.
COREDNS_VERSION="$(module_version coredns github.com/coredns/coredns)"
COREDNS_IMAGE="registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
METRICS_SERVER_VERSION="$(module_version metrics-server sigs.k8s.io/metrics-server)"
METRICS_SERVER_IMAGE="registry.k8s.io/metrics-server/metrics-server:$METRICS_SERVER_VERSION"
# $IMAGES_DIR/<name>.tar, built from images/<name> (http-echo-slow, -faulty and -broken: from
# images/http-echo).
IMAGE_NAMES=(pause http-echo http-echo-slow http-echo-faulty http-echo-broken coredns metrics-server
             netcheck jobs frontend)
# The gateway add-on's image, under its upstream name: built only when the add-on is asked for
# (cluster/gateway.sh), imported by up whenever it is in the cache.
TRAEFIK_IMAGE="docker.io/library/traefik:$TRAEFIK_VERSION"
# The VPA add-on's image (cluster/vpa.sh), the same way.
VPA_RECOMMENDER_IMAGE="registry.k8s.io/autoscaling/vpa-recommender:$VPA_VERSION"
# The Prometheus add-on's images (cluster/prometheus.sh), the same way: Prometheus v3.X.Y is the
# Go module github.com/prometheus/prometheus v0.3XX.Y (v3.16.0: v0.316.0). promtool, for checking
# its configuration and rules, is built with it into the cache (not an image).
PROMETHEUS_MODULE_VERSION="$(awk -F. '{ printf "v0.%d%02d.%d", substr($1, 2), $2, $3 }' \
                             <<<"$PROMETHEUS_VERSION")"
PROMETHEUS_IMAGE="quay.io/prometheus/prometheus:$PROMETHEUS_VERSION"
PROMTOOL="$CACHE_DIR/prometheus/$PROMETHEUS_VERSION/promtool"
# The storage add-on's images (cluster/storage.sh), the same way: the provisioner under its
# upstream name, and the helper pods' busybox (its Debian version without the epoch, + as _).
LOCAL_PATH_IMAGE="docker.io/rancher/local-path-provisioner:$LOCAL_PATH_VERSION"
BUSYBOX_TAG="${BUSYBOX_DEBIAN_VERSION#*:}"
BUSYBOX_IMAGE="localhost/demo-orq/busybox:${BUSYBOX_TAG//+/_}"
# The network-policies add-on's image (cluster/network-policies.sh), the same way; patched, so
# under a name of its own.
NETWORK_POLICIES_IMAGE="localhost/demo-orq/kube-network-policies:$NETWORK_POLICIES_VERSION-nfqueue"
ON_DEMAND_IMAGE_NAMES=(traefik vpa-recommender prometheus rules-loader local-path-provisioner
                       busybox kube-network-policies)

# Ports on the machine (check_ports_free checks them).
HOST_PORTS=("$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KUBELET_PORT"
            "$KUBELET_HEALTHZ_PORT" "$KUBE_PROXY_METRICS_PORT" "$KUBE_PROXY_HEALTHZ_PORT"
            "$CONTROLLER_MANAGER_PORT" "$SCHEDULER_PORT" "$CONTAINERD_STREAM_PORT")

APISERVER_URL="https://$NODE_IP:$APISERVER_PORT"

# State layout.
PKI="$STATE_DIR/pki"
CONF="$STATE_DIR/config"
RUN="$STATE_DIR/run"
LOGS="$STATE_DIR/logs"
CONTAINERD_SOCK="$STATE_DIR/containerd/containerd.sock"
KUBELET_ROOT="$STATE_DIR/kubelet"
# The storage add-on's volumes (never removed by down or up).
STORAGE_DIR="$STATE_DIR/$STORAGE_DIR_NAME"

# The settings a template may use as ${NAME}; anything else is an error (see render).
TEMPLATE_VARS=(STATE_DIR PKI CONF LOGS CONTAINERD_SOCK KUBELET_ROOT KUBE_CONTEXT
               PAUSE_IMAGE COREDNS_IMAGE METRICS_SERVER_IMAGE
               NODE_NAME NODE_IP BRIDGE POD_CIDR SERVICE_CIDR DNS_SERVICE_IP CLUSTER_DOMAIN
               KUBELET_PORT KUBELET_HEALTHZ_PORT KUBE_PROXY_METRICS_PORT KUBE_PROXY_HEALTHZ_PORT
               CONTAINERD_STREAM_PORT DNS_PORT COREDNS_PORT COREDNS_HEALTH_PORT COREDNS_READY_PORT
               COREDNS_METRICS_PORT METRICS_SERVER_PORT METRICS_SERVER_SERVICE_PORT
               METRICS_RESOLUTION APISERVER_URL
               TRAEFIK_IMAGE GATEWAY_NAMESPACE GATEWAY_CLASS GATEWAY_HTTP_PORT GATEWAY_HTTPS_PORT
               TRAEFIK_PING_PORT TRAEFIK_METRICS_PORT GATEWAY_HTTP_NODE_PORT
               GATEWAY_HTTPS_NODE_PORT
               VPA_RECOMMENDER_IMAGE VPA_NAMESPACE VPA_RECOMMENDER_INTERVAL VPA_MIN_CPU_MILLICORES
               VPA_MIN_MEMORY_MB VPA_METRICS_PORT
               PROMETHEUS_IMAGE RULES_LOADER_IMAGE PROMETHEUS_NAMESPACE PROMETHEUS_PORT
               PROMETHEUS_RETENTION_TIME PROMETHEUS_RETENTION_SIZE PROMETHEUS_RULES_LABEL
               LOCAL_PATH_IMAGE BUSYBOX_IMAGE STORAGE_NAMESPACE STORAGE_CLASS STORAGE_DIR
               NETWORK_POLICIES_IMAGE NETWORK_POLICIES_NAMESPACE NETWORK_POLICIES_NFQUEUE_ID
               NETWORK_POLICIES_METRICS_PORT)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# render_addon NAME DIR: every addons/NAME/*.yaml rendered into DIR (an add-on's manifests).
render_addon() {
  local f
  mkdir -p "$2"
  for f in "$CLUSTER_DIR/addons/$1"/*.yaml; do render "$f" "$2/${f##*/}"; done
}

# render TEMPLATE OUT [NAME=VALUE...]: the one place templates become files. Fills ${NAME}
# from TEMPLATE_VARS plus the NAME=VALUE pairs given (python3 string.Template, so `$$` is
# a literal `$`); an unknown ${NAME} fails. OUT is written whole (mode 600) or not at all.
render() {
  local template=$1 out=$2 name pairs=()
  shift 2
  for name in "${TEMPLATE_VARS[@]}"; do pairs+=("$name=${!name}"); done
  # shellcheck disable=SC2016  # Python code: its $ are string.Template's
  python3 -c '
import os, string, sys
template, out, *pairs = sys.argv[1:]
values = dict(pair.split("=", 1) for pair in pairs)
with open(template) as f:
    try:
        text = string.Template(f.read()).substitute(values)
    except KeyError as error:
        sys.exit(f"ERROR: template {template} uses ${{{error.args[0]}}}, which is neither in "
                 "TEMPLATE_VARS (cluster/lib.sh) nor given to render")
    except ValueError as error:
        sys.exit(f"ERROR: template {template}: {error} (a literal $ is written $$)")
fd = os.open(out + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    f.write(text)
os.replace(out + ".tmp", out)
' "$template" "$out" "${pairs[@]}" "$@"
}
