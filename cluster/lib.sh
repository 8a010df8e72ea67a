# shellcheck shell=bash disable=SC2034  # settings used by the scripts that source this file
# Shared settings and helpers for the demo-orq local cluster scripts.
# Sourced by cluster.sh, build-kubernetes.sh, build-images.sh, install-packages.sh.

KUBE_VERSION="${DEMO_ORQ_KUBE_VERSION:-v1.30.14}"
# Go used for Kubernetes and the add-ons' modules (CoreDNS, metrics-server): the Go of their era.
GO_TOOLCHAIN_FOR_KUBE="${DEMO_ORQ_GO_TOOLCHAIN:-go1.23.12}"

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${DEMO_ORQ_CACHE:-$HOME/.cache/demo-orq}"
KUBE_BIN="$CACHE_DIR/kubernetes/$KUBE_VERSION/bin"
IMAGES_DIR="$CACHE_DIR/images"
STATE_DIR="${DEMO_ORQ_STATE:-/var/lib/demo-orq}"
KUBECONFIG_OUT="${DEMO_ORQ_KUBECONFIG:-$HOME/.kube/demo-orq.kubeconfig}"
KUBE_CONTEXT="demo-orq"

KUBE_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

# The version of a Go module that images/<name>/go.mod requires (the one place it is written).
module_version() {  # image-name module-path
  awk -v m="$2" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }' \
    "$CLUSTER_DIR/images/$1/go.mod"
}

# Images, all built locally (build-images.sh) and imported into containerd: never pulled.
PAUSE_IMAGE="registry.k8s.io/pause:3.9"
ECHO_IMAGE="docker.io/hashicorp/http-echo:0.2.3"
COREDNS_VERSION="$(module_version coredns github.com/coredns/coredns)"
COREDNS_IMAGE="registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
METRICS_SERVER_VERSION="$(module_version metrics-server sigs.k8s.io/metrics-server)"
METRICS_SERVER_IMAGE="registry.k8s.io/metrics-server/metrics-server:$METRICS_SERVER_VERSION"
NETCHECK_IMAGE="localhost/demo-orq/netcheck:1.0"   # for tests: DNS + HTTP from inside a pod
# For tests: http-echo that takes 250 ms to answer `/` (a slow candidate for the analysis gate).
SLOW_ECHO_IMAGE="localhost/demo-orq/http-echo-slow:0.2.3"
SLOW_ECHO_DELAY="250ms"
# $IMAGES_DIR/<name>.tar, built from images/<name> (http-echo-slow: from images/http-echo).
IMAGE_NAMES=(pause http-echo http-echo-slow coredns metrics-server netcheck)

# Network layout. The node IP is the pod bridge's gateway address, on the
# project's own bridge (this kernel has no dummy links), never on the
# machine's primary interface. Every listener of the cluster is on it or on 127.0.0.1.
NODE_NAME="demo-orq-node"
NODE_IP="10.88.0.1"          # = the pod bridge gateway; up puts it on the bridge first
BRIDGE="demoorq-br0"
POD_CIDR="10.88.0.0/16"
SERVICE_CIDR="10.96.0.0/16"
SERVICE_API_IP="10.96.0.1"   # the `kubernetes` Service (first address of SERVICE_CIDR)
DNS_SERVICE_IP="10.96.0.10"  # kube-dns (CoreDNS)
CLUSTER_DOMAIN="cluster.local"
NODE_PORT_RANGE="30000-32767"

# Ports on the machine (all bound to 127.0.0.1 or NODE_IP; check_ports_free checks them).
ETCD_CLIENT_PORT=2379
ETCD_PEER_PORT=2380
APISERVER_PORT=6443          # on NODE_IP: also the endpoint of the `kubernetes` Service
KUBELET_PORT=10250           # on NODE_IP: the kubelet API (apiserver, metrics-server)
KUBELET_HEALTHZ_PORT=10248
KUBE_PROXY_METRICS_PORT=10249
KUBE_PROXY_HEALTHZ_PORT=10256
CONTROLLER_MANAGER_PORT=10257
SCHEDULER_PORT=10259
CONTAINERD_STREAM_PORT=10010 # CRI streaming (exec, port-forward)
HOST_PORTS=("$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KUBELET_PORT"
            "$KUBELET_HEALTHZ_PORT" "$KUBE_PROXY_METRICS_PORT" "$KUBE_PROXY_HEALTHZ_PORT"
            "$CONTROLLER_MANAGER_PORT" "$SCHEDULER_PORT" "$CONTAINERD_STREAM_PORT")
# Ports inside the add-ons' pods (their own network namespaces) and of their Services.
DNS_PORT=53                  # kube-dns Service port
COREDNS_PORT=1053            # CoreDNS in its pod: above 1024, so no capability is needed
COREDNS_HEALTH_PORT=8080
COREDNS_READY_PORT=8181
COREDNS_METRICS_PORT=9153
METRICS_SERVER_PORT=10250    # metrics-server in its pod; its Service listens on 443
METRICS_SERVER_SERVICE_PORT=443
METRICS_RESOLUTION="10s"     # how often metrics-server scrapes the kubelet (its minimum)

APISERVER_URL="https://$NODE_IP:$APISERVER_PORT"

# State layout.
PKI="$STATE_DIR/pki"
CONF="$STATE_DIR/config"
RUN="$STATE_DIR/run"
LOGS="$STATE_DIR/logs"
CONTAINERD_SOCK="$STATE_DIR/containerd/containerd.sock"
KUBELET_ROOT="$STATE_DIR/kubelet"

# The settings a template may use as ${NAME}; anything else is an error (see render).
TEMPLATE_VARS=(STATE_DIR PKI CONF LOGS CONTAINERD_SOCK KUBELET_ROOT KUBE_CONTEXT
               PAUSE_IMAGE COREDNS_IMAGE METRICS_SERVER_IMAGE
               NODE_NAME NODE_IP BRIDGE POD_CIDR SERVICE_CIDR DNS_SERVICE_IP CLUSTER_DOMAIN
               KUBELET_PORT KUBELET_HEALTHZ_PORT KUBE_PROXY_METRICS_PORT KUBE_PROXY_HEALTHZ_PORT
               CONTAINERD_STREAM_PORT DNS_PORT COREDNS_PORT COREDNS_HEALTH_PORT COREDNS_READY_PORT
               COREDNS_METRICS_PORT METRICS_SERVER_PORT METRICS_SERVER_SERVICE_PORT
               METRICS_RESOLUTION APISERVER_URL)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

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
