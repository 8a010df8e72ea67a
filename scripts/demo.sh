#!/usr/bin/env bash
# The container-orchestration demo, done with Pulumi: sets up what is missing (toolchain, local
# cluster), then deploys, reaches, scales, rolls out v2, rolls back and heals, printing the
# evidence of each step.
#   usage: scripts/demo.sh [--stack dev|kind]
set -euo pipefail
project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"

stack=dev
while [[ $# -gt 0 ]]; do
  case "$1" in
    --stack) stack="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument '$1' (accepted: --stack dev|kind)" >&2; exit 2 ;;
  esac
done
case "$stack" in
  dev|kind) ;;
  *) echo "demo: unknown stack '$stack' (accepted: dev, kind)" >&2; exit 2 ;;
esac

V1_MESSAGE="Hola desde Kubernetes 👋"
V2_MESSAGE="Hola desde K8s v2 🚀"
NAMESPACE=demo

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
evidence() { show kubectl -n "$NAMESPACE" get deploy,rs,pods,svc -o wide; }

setup() {
  step "0) Set up what is missing: the Pulumi toolchain and the cluster"
  toolchain/ensure.sh
  # shellcheck source=toolchain/env.sh
  source toolchain/env.sh
  if [[ "$stack" == dev ]]; then
    cluster/up.sh
    eval "$(cluster/status.sh --env)"
  else
    kind get clusters | grep -qx demo-orq ||
      { echo "demo: no kind cluster 'demo-orq': kind create cluster --name demo-orq --image kindest/node:v1.30.0" >&2; exit 1; }
    export KUBECONFIG="${KUBECONFIG:-$HOME/.kube/config}"
    kubectl config use-context kind-demo-orq >/dev/null
  fi
  pulumi stack select "$stack" --create
  # Start from the demo's defaults so that every run tells the same story.
  pulumi config rm message >/dev/null 2>&1 || true
  pulumi config rm replicas >/dev/null 2>&1 || true
}

up() { show pulumi up --yes --skip-preview --message "$1"; }

service_url() { pulumi stack output url; }

reach() {
  step "2) Reach it: NodePort and port-forward"
  show curl -fsS --retry 10 --retry-connrefused --retry-delay 1 "$(service_url)"
  kubectl -n "$NAMESPACE" port-forward svc/hello-svc 18180:80 >/dev/null 2>&1 &
  local forward=$!
  for _ in $(seq 50); do curl -fsS -o /dev/null http://127.0.0.1:18180/ 2>/dev/null && break; sleep 0.2; done
  show curl -fsS http://127.0.0.1:18180/
  kill "$forward"; wait "$forward" 2>/dev/null || true
}

heal() {
  step "6) Self-healing: delete every pod at once"
  show kubectl -n "$NAMESPACE" delete pod -l app=hello-api --force --grace-period=0
  local started=$SECONDS
  show kubectl -n "$NAMESPACE" rollout status deploy/hello-api --timeout=180s
  show kubectl -n "$NAMESPACE" wait pod -l app=hello-api --for=condition=Ready --timeout=180s
  echo "all pods Ready again after $((SECONDS - started)) s"
  evidence
}

main() {
  setup
  step "1) Deploy v1: namespace, Deployment (3 replicas) and NodePort Service"
  up "v1: $V1_MESSAGE"
  evidence
  reach
  step "3) Scale to 5 by config"
  show pulumi config set replicas 5
  up "scale to 5"
  evidence
  step "4) Roll out v2 by config"
  show pulumi config set message "$V2_MESSAGE"
  up "v2: $V2_MESSAGE"
  show curl -fsS --retry 10 --retry-connrefused --retry-delay 1 "$(service_url)"
  step "5) Roll back to the previous update from the stack history"
  show python scripts/rollback.py --stack "$stack" --list
  show python scripts/rollback.py --stack "$stack"
  show curl -fsS --retry 10 --retry-connrefused --retry-delay 1 "$(service_url)"
  heal
  step "Done. Stack outputs:"
  show pulumi stack output
  echo "Clean up with: source toolchain/env.sh && pulumi destroy --stack $stack"
}

main
