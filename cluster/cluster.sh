#!/usr/bin/env bash
# demo-orq local Kubernetes cluster: upstream binaries run as plain processes.
#   cluster/up.sh     (= cluster.sh up)     bring the cluster up (idempotent; builds what is missing)
#   cluster/down.sh   (= cluster.sh down)   stop everything it started and clean the host
#   cluster/status.sh (= cluster.sh status) show components, add-ons and the node
#   cluster/status.sh --env (= cluster.sh env)  print export lines: eval "$(cluster/status.sh --env)"
#   cluster.sh restart COMPONENT [--kill]   stop (SIGTERM, or SIGKILL with --kill) and start one
#                                           component, then wait until the cluster is healthy
#   cluster.sh kill                         an unclean stop, for recovery tests: SIGKILL every
#                                           process of the cluster and clean nothing
#   cluster/gateway.sh (= cluster.sh gateway)  install the gateway add-on (Gateway API CRDs and
#                                           Traefik) on demand; idempotent
#   cluster/vpa.sh (= cluster.sh vpa)       install the VPA add-on (VPA CRDs and the recommender
#                                           alone: recommendations, no pod changed) on demand;
#                                           idempotent
#   cluster/prometheus.sh (= cluster.sh prometheus)  install the Prometheus add-on (Prometheus,
#                                           its recording rules and the apps' rules loader) on
#                                           demand; idempotent
#   cluster/storage.sh (= cluster.sh storage)  install the storage add-on (local-path-provisioner,
#                                           the default StorageClass local-path) on demand;
#                                           idempotent
#   cluster/network-policies.sh (= cluster.sh network-policies)  install the network-policies
#                                           add-on (kube-network-policies, which enforces
#                                           NetworkPolicy) on demand; idempotent
# up runs the steps of steps/ in the order of their file names: steps/NN-NAME.sh defines
# step_NAME (dashes as underscores). A step that also defines start_NAME and health_NAME is a
# component, which restart, status and kill know by its name.
set -euo pipefail
# shellcheck source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=cluster/lib/clients.sh
source "$CLUSTER_DIR/lib/clients.sh"
# shellcheck source=cluster/lib/processes.sh
source "$CLUSTER_DIR/lib/processes.sh"
# shellcheck source=cluster/lib/cleanup.sh
source "$CLUSTER_DIR/lib/cleanup.sh"
# shellcheck source=cluster/lib/addons.sh
source "$CLUSTER_DIR/lib/addons.sh"
# shellcheck source=cluster/lib/gateway.sh
source "$CLUSTER_DIR/lib/gateway.sh"
# shellcheck source=cluster/lib/vpa.sh
source "$CLUSTER_DIR/lib/vpa.sh"
# shellcheck source=cluster/lib/prometheus.sh
source "$CLUSTER_DIR/lib/prometheus.sh"
# shellcheck source=cluster/lib/storage.sh
source "$CLUSTER_DIR/lib/storage.sh"
# shellcheck source=cluster/lib/network_policies.sh
source "$CLUSTER_DIR/lib/network_policies.sh"

# ---------------------------------------------------------------- steps

# Sources every step (functions only) and lists their functions in STEPS, in the order of the
# file names; the components in COMPONENTS, in start order. A step file without its function is
# an error, so that none is skipped. (Sourced in this function, a step's own top-level
# assignments are global, unless made with declare or local.)
load_steps() {
  local file name fn
  STEPS=() COMPONENTS=()
  for file in "$CLUSTER_DIR"/steps/[0-9][0-9]-*.sh; do
    name=${file##*/}; name=${name#[0-9][0-9]-}; name=${name%.sh}
    fn=step_${name//-/_}
    # shellcheck source=/dev/null
    source "$file"
    declare -F "$fn" >/dev/null || die "cluster/steps/${file##*/} defines no function $fn"
    STEPS+=("$fn")
    if declare -F "start_${name//-/_}" >/dev/null; then COMPONENTS+=("$name"); fi
  done
}

run_steps() {
  local step
  for step in "${STEPS[@]}"; do "$step"; done
}

load_steps

# ---------------------------------------------------------------- commands

# Every component runs, the API server is ready, the node Ready, and the add-ons answer.
is_up() {
  local c
  for c in "${COMPONENTS[@]}"; do running_pid "$c" >/dev/null || return 1; done
  health kube-apiserver >/dev/null 2>&1 && node_ready && dns_answers && metrics_api_serves
}

cmd_up() {
  local t0=$SECONDS
  if [[ $EUID -eq 0 ]] && [[ -x "$KUBE_BIN/kubectl" ]] && is_up; then
    # Images that a newer checkout added since the cluster started (built if missing).
    "$CLUSTER_DIR/build-images.sh"
    import_images
    # An API server from before this checkout's flags (Secrets encrypted, the audit log) gets them.
    update_kube_apiserver
    write_kubeconfig "$KUBECONFIG_OUT" admin
    log "cluster already up (node $NODE_NAME Ready, DNS and metrics API answer); kubeconfig: $KUBECONFIG_OUT"
    return 0
  fi
  run_steps
  log "cluster up in $((SECONDS - t0))s; kubeconfig $KUBECONFIG_OUT (context $KUBE_CONTEXT)"
  log "use it with: eval \"\$($CLUSTER_DIR/status.sh --env)\""
}

cmd_down() {
  [[ $EUID -eq 0 ]] || die "down needs root"
  local t0=$SECONDS
  stop_all
  log "cluster down in $((SECONDS - t0))s (data kept in $STATE_DIR)"
}

# Stops one component (SIGTERM; SIGKILL with --kill) and starts it again with the same
# configuration, then waits until it and the cluster are healthy. Running containers are
# untouched: containerd's shims and the containers live on while containerd is away.
cmd_restart() {
  local component="" kill=false arg accepted
  accepted="$(printf '%s, ' "${COMPONENTS[@]}")"
  accepted="${accepted%, }"
  for arg in "$@"; do
    case $arg in
      --kill) kill=true ;;
      -*) usage_error "unknown option '$arg' for restart (accepted: --kill)" ;;
      *)
        [[ -z "$component" ]] || usage_error "restart takes one component, got '$component' and '$arg' (accepted: $accepted)"
        component=$arg ;;
    esac
  done
  [[ -n "$component" ]] || usage_error "restart needs a component (accepted: $accepted)"
  [[ " ${COMPONENTS[*]} " == *" $component "* ]] ||
    usage_error "unknown component '$component' (accepted: $accepted)"
  [[ $EUID -eq 0 ]] || die "restart needs root"
  [[ -f "$CONF/kubelet.yaml" ]] || die "the cluster was never set up: run cluster/up.sh"

  local t0=$EPOCHREALTIME signal=TERM
  "$kill" && signal=KILL
  STOP_SIGNAL=$signal stop_components "$component"
  start_one "$component"
  wait_healthy "$component" 90 health "$component"
  # The cluster is whole again only when the API server, the node and the add-ons say so.
  wait_healthy "$component" 90 health kube-apiserver
  wait_healthy "$component" 90 node_ready
  step_dns
  step_metrics_api
  log "$component restarted (SIG$signal) and cluster healthy in $(seconds_since "$t0")s"
}

# Like a power cut: every component, shim and container is killed (SIGKILL) at once, and the
# mounts, network devices, iptables rules and pid files stay behind. `up` recovers from it.
cmd_kill() {
  [[ $EUID -eq 0 ]] || die "kill needs root"
  local name pid
  for name in "${COMPONENTS[@]}"; do
    if pid="$(running_pid "$name")"; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  kill_leftovers
  log "killed every process of the cluster (SIGKILL); run cluster/up.sh to recover"
}

# An add-on (gateway, vpa, prometheus, storage, network-policies), installed on demand by
# install_<name> (lib/<name>.sh, dashes as underscores; each calls install_addon of
# lib/addons.sh): the cluster must be up; one install at a time, as two test suites may ask for
# one at once.
cmd_addon() {  # name
  local name=$1
  [[ $EUID -eq 0 ]] || die "$name needs root"
  if ! { [[ -x "$KUBE_BIN/kubectl" ]] && health kube-apiserver >/dev/null 2>&1 && node_ready; }; then
    die "the cluster is not up: run cluster/up.sh first"
  fi
  if [[ $name == vpa ]]; then
    metrics_api_serves || die "the metrics API (metrics-server) does not serve: run cluster/up.sh"
  fi
  mkdir -p "$RUN"
  exec 9>"$RUN/addons.lock"
  flock 9
  "install_${name//-/_}"
}

usage_error() { printf 'error: %s\n' "$*" >&2; exit 2; }
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

cmd_status() {
  local c pid state rc=0
  printf '%-24s %-8s %s\n' COMPONENT PID STATE
  for c in "${COMPONENTS[@]}"; do
    if pid="$(running_pid "$c")"; then
      if health "$c" >/dev/null 2>&1; then state=healthy; else state=unhealthy; rc=1; fi
    else
      pid=-; state=stopped; rc=1
    fi
    printf '%-24s %-8s %s\n' "$c" "$pid" "$state"
  done
  echo
  if [[ -x "$KUBE_BIN/kubectl" ]] && health kube-apiserver >/dev/null 2>&1; then
    if dns_answers; then state=healthy; else state=unhealthy; rc=1; fi
    printf '%-24s %-8s %s\n' "coredns (add-on)" - "$state (DNS at $DNS_SERVICE_IP)"
    if metrics_api_serves; then state=healthy; else state=unhealthy; rc=1; fi
    printf '%-24s %-8s %s\n' "metrics-server (add-on)" - "$state (metrics.k8s.io)"
    addon_status "traefik (gateway add-on)" gateway || rc=1
    addon_status "vpa-recommender (add-on)" vpa || rc=1
    addon_status "prometheus (add-on)" prometheus || rc=1
    addon_status "local-path (storage add-on)" storage || rc=1
    addon_status "kube-network-policies" network-policies || rc=1
    printf '%-24s %-8s %s\n' "secrets in etcd" - "$(secrets_at_rest_summary)"
    echo
    kubectl_admin get nodes -o wide || rc=1
    node_ready || rc=1
  else
    echo "apiserver not reachable"
  fi
  echo
  cmd_env
  return "$rc"
}

cmd_env() {
  echo "export PATH=\"$KUBE_BIN:\$PATH\""
  echo "export KUBECONFIG=\"$KUBECONFIG_OUT\""
}

COMMANDS="up, down, status, env, restart COMPONENT [--kill], kill, gateway, vpa, prometheus, storage"
COMMANDS+=", network-policies"
main() {
  [[ $# -gt 0 ]] || usage_error "a command is needed (accepted: $COMMANDS)"
  local command=$1
  shift
  if [[ $command != restart && $# -gt 0 ]]; then
    usage_error "unexpected argument '$1' for $command (accepted: none)"
  fi
  case $command in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    restart) cmd_restart "$@" ;;
    kill) cmd_kill ;;
    gateway | vpa | prometheus | storage | network-policies) cmd_addon "$command" ;;
    *) usage_error "unknown command '$command' (accepted: $COMMANDS)" ;;
  esac
}

# Sourcing the file (for debugging single steps) defines the functions only.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
