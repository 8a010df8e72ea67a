# shellcheck shell=bash disable=SC2034  # settings used by the scripts that source this file
# Shared settings and helpers for the demo-orq local cluster scripts.
# Sourced by cluster.sh, build-kubernetes.sh, build-images.sh, install-packages.sh.

KUBE_VERSION="${DEMO_ORQ_KUBE_VERSION:-v1.30.14}"
GO_TOOLCHAIN_FOR_KUBE="${DEMO_ORQ_GO_TOOLCHAIN:-go1.23.12}"

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${DEMO_ORQ_CACHE:-$HOME/.cache/demo-orq}"
KUBE_BIN="$CACHE_DIR/kubernetes/$KUBE_VERSION/bin"
IMAGES_DIR="$CACHE_DIR/images"
STATE_DIR="${DEMO_ORQ_STATE:-/var/lib/demo-orq}"
KUBECONFIG_OUT="${DEMO_ORQ_KUBECONFIG:-$HOME/.kube/demo-orq.kubeconfig}"
KUBE_CONTEXT="demo-orq"

KUBE_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
PAUSE_IMAGE="registry.k8s.io/pause:3.9"
ECHO_IMAGE="docker.io/hashicorp/http-echo:0.2.3"

# Network layout. The node IP is the pod bridge's gateway address, on the
# project's own bridge (this kernel has no dummy links), never on the
# machine's primary interface.
NODE_NAME="demo-orq-node"
NODE_IP="10.88.0.1"          # = the pod bridge gateway; up puts it on the bridge first
BRIDGE="demoorq-br0"
POD_CIDR="10.88.0.0/16"
SERVICE_CIDR="10.96.0.0/16"
SERVICE_API_IP="10.96.0.1"

# State layout.
PKI="$STATE_DIR/pki"
CONF="$STATE_DIR/config"
RUN="$STATE_DIR/run"
LOGS="$STATE_DIR/logs"
CONTAINERD_SOCK="$STATE_DIR/containerd/containerd.sock"
KUBELET_ROOT="$STATE_DIR/kubelet"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
