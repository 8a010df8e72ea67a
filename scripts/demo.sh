#!/usr/bin/env bash
# The container-orchestration demo, done with Pulumi: sets up what is missing (toolchain, local
# cluster), then deploys v1, reaches it, scales, rolls out v2, rolls back and heals, printing the
# evidence of each step, the way of the chosen strategy (RollingUpdate by default). It ends with
# the stack as Pulumi.<stack>.yaml says (the file is put back as it was found), so `git status`
# is clean and `pulumi preview` shows no change.
# With --gateway, the app also gets its HTTPS entry through the Gateway API (docs/gateway.md);
# with --isolation, a frontend before it, NetworkPolicies that let only the frontend (and the
# gateway, and the app's Jobs) reach it, and a quota (docs/isolation.md).
#   usage: scripts/demo.sh [--strategy RollingUpdate|Recreate|BlueGreen|Canary]
#                          [--stack dev|kind] [--forward-port PORT] [--gateway] [--isolation]
set -euo pipefail
project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
fail_usage() { echo "demo: $1" >&2; usage >&2; exit 2; }

stack=dev
strategy=RollingUpdate
forward_port=""
gateway=false
isolation=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --strategy) [[ $# -ge 2 ]] || fail_usage "--strategy needs a value"; strategy="$2"; shift 2 ;;
    --stack) [[ $# -ge 2 ]] || fail_usage "--stack needs a value (accepted: dev, kind)"; stack="$2"; shift 2 ;;
    --forward-port) [[ $# -ge 2 ]] || fail_usage "--forward-port needs a value"; forward_port="$2"; shift 2 ;;
    --gateway) gateway=true; shift ;;
    --isolation) isolation=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) fail_usage "unknown argument '$1' (accepted: --strategy NAME, --stack dev|kind, --forward-port PORT, --gateway, --isolation)" ;;
  esac
done
case "$stack" in
  dev|kind) ;;
  *) fail_usage "unknown stack '$stack' (accepted: dev, kind)" ;;
esac
case "$strategy" in
  RollingUpdate|Recreate|BlueGreen|Canary) ;;
  *) fail_usage "unknown strategy '$strategy' (accepted: RollingUpdate, Recreate, BlueGreen, Canary)" ;;
esac
if [[ -n "$forward_port" ]] && ! [[ "$forward_port" =~ ^[0-9]+$ && "$forward_port" -ge 1024 && "$forward_port" -le 65535 ]]; then
  fail_usage "bad --forward-port '$forward_port' (accepted: a port from 1024 to 65535)"
fi

stack_file="Pulumi.$stack.yaml"
stack_file_copy="$(mktemp)"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
output() { pulumi stack output "$1"; }
evidence() { show kubectl -n "$(output namespace)" get deploy,rs,pods,svc -o wide; }
up() { show pulumi up --yes --skip-preview --message "$1"; }
curl_url() { show curl -fsS --retry 10 --retry-connrefused --retry-delay 1 "$(output url)"; }
# The demo's checks ask the app through the API server (the stack's kubeconfig and context), the
# way that works on any cluster; the node port above is what a user curls where it is reachable.
ask() { show demo-orq get --stack "$stack" "$@"; }
# Where the users' requests go: through the gateway with --gateway, else the app's Service.
users=(--service app)

put_stack_file_back() {
  [[ -s "$stack_file_copy" ]] && cp "$stack_file_copy" "$stack_file"
  rm -f "$stack_file_copy"
}

setup() {
  step "0) Set up what is missing: the Pulumi toolchain and the cluster"
  if [[ "$stack" == dev ]]; then scripts/setup.sh; else scripts/setup.sh --no-cluster; fi
  # shellcheck source=toolchain/env.sh
  source toolchain/env.sh
  eval "$(demo-orq facts)"
  forward_port="${forward_port:-$DEMO_PORT_FORWARD_PORT}"
  if [[ "$stack" == dev ]]; then
    eval "$(cluster/status.sh --env)"
  else
    kind get clusters | grep -qx demo-orq ||
      { echo "demo: no kind cluster 'demo-orq': kind create cluster --name demo-orq --image kindest/node:v1.30.0" >&2; exit 1; }
    export KUBECONFIG="${KUBECONFIG:-$HOME/.kube/config}"
  fi
  if $gateway; then
    if [[ "$stack" == dev ]]; then
      cluster/gateway.sh
    else
      kubectl get gatewayclass traefik >/dev/null ||
        { echo "demo: no GatewayClass 'traefik' in the kind cluster: see docs/gateway.md" >&2; exit 1; }
    fi
  fi
  if $isolation && [[ "$stack" == dev ]]; then
    cluster/network-policies.sh
  fi
  cp "$stack_file" "$stack_file_copy"
  trap put_stack_file_back EXIT
  pulumi stack select "$stack" --create
  # Every run tells the same story from v1, whatever an earlier run left in the stack file.
  pulumi config set message "$DEMO_V1_MESSAGE"
  pulumi config set replicas "$DEMO_REPLICAS"
  # The story's versions start from the app's, and a stack refuses the keys of another strategy
  # than its own (the settings table says which).
  local other_strategies_keys
  other_strategies_keys="$(python -m demo_orq.settings --keys-of-other-strategies "$strategy")"
  # shellcheck disable=SC2086  # one key per word
  pulumi config rm-all liveColor blueMessage greenMessage canaryMessage canaryWeight \
    $other_strategies_keys >/dev/null
  pulumi config set strategy "$strategy"
  pulumi config set gateway "$gateway"
  local key
  for key in networkPolicy frontend quota; do pulumi config set "$key" "$isolation"; done
}

# The stack's app while a command runs: what the users saw (answers, failures, timings).
watched() { show demo-orq watch --stack "$stack" "${users[@]}" -- "$@"; }
newest_update() { demo-orq rollback --stack "$stack" --list | awk 'NR == 1 { print $1 }'; }

reach() {
  step "2) Reach it: NodePort and port-forward"
  curl_url
  kubectl -n "$(output namespace)" port-forward "svc/$(output serviceName)" \
    "$forward_port:$DEMO_SERVICE_PORT" >/dev/null 2>&1 &
  local forward=$!
  for _ in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$forward_port/" 2>/dev/null && break; sleep 0.2; done
  show curl -fsS "http://127.0.0.1:$forward_port/"
  kill "$forward"; wait "$forward" 2>/dev/null || true
  if $gateway; then reach_gateway; fi
  if $isolation; then isolate; fi
}

isolate() {
  step "2c) Only the frontend reaches the API: NetworkPolicies, enforced"
  local namespace api
  namespace="$(output namespace)"
  api="http://$(output serviceName).$namespace.svc/"
  show kubectl -n "$namespace" get networkpolicy,resourcequota,limitrange
  show curl -fsS "$(output frontendUrl)"
  echo "a pod of the namespace that is not the frontend asks the API:"
  kubectl -n "$namespace" delete pod outsider --ignore-not-found --wait >/dev/null
  # The app's own Jobs image, hardened as the namespace's restricted profile requires.
  show kubectl -n "$namespace" run outsider --restart=Never --image="$DEMO_JOBS_IMAGE" \
    --overrides='{"spec":{"automountServiceAccountToken":false,"securityContext":{"runAsNonRoot":true,"runAsUser":10001,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"outsider","image":"'"$DEMO_JOBS_IMAGE"'","args":["smoke","-url='"$api"'","-requests=1","-wait=5s"],"securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"readOnlyRootFilesystem":true}}]}}'
  kubectl -n "$namespace" wait pod/outsider --for=jsonpath='{.status.phase}'=Failed --timeout=60s >/dev/null &&
    echo "refused, as it must be:"
  show kubectl -n "$namespace" logs outsider
  kubectl -n "$namespace" delete pod outsider --wait=false >/dev/null
}

reach_gateway() {
  step "2b) Reach it through the gateway: HTTPS with the stack's own CA, HTTP redirected"
  local ca=".demo-orq/$stack-gateway-ca.pem"
  mkdir -p .demo-orq
  pulumi stack output gatewayCaCertificate > "$ca"
  # curl resolves *.localhost to this machine itself, as browsers do.
  show curl -fsS --cacert "$ca" "$(output gatewayUrl)"
  local host http_port
  host="$(output gatewayUrl | sed -E 's#^https://([^:/]+).*#\1#')"
  # shellcheck source=cluster/settings.env
  http_port="$(source cluster/settings.env && echo "$GATEWAY_HTTP_NODE_PORT")"
  show curl -sS -o /dev/null -w '%{http_code} -> %{redirect_url}\n' "http://$host:$http_port/api"
  users=(--service gateway)
}

heal() {
  step "6) Self-healing: delete every pod at once"
  local namespace app started each healed
  namespace="$(output namespace)" app="$(output deploymentName)"
  show kubectl -n "$namespace" delete pod -l "app=$app" --force --grace-period=0
  started=$EPOCHREALTIME
  for each in $(kubectl -n "$namespace" get deploy -o name); do
    show kubectl -n "$namespace" rollout status "$each" --timeout=180s
  done
  show kubectl -n "$namespace" wait pod -l "app=$app" --for=condition=Ready --timeout=180s
  healed="$(python -c "print(round($EPOCHREALTIME - $started, 1))")"
  echo "all pods Ready again after $healed s"
  # The report's MTTR is made of such recorded recoveries (.demo-orq/events/<stack>.jsonl).
  show demo-orq events record --stack "$stack" --kind heal --seconds "$healed" \
    --detail "demo: every pod deleted"
  evidence
}

# ---- steps 4 and 5, each strategy's way

rolling_v2_and_back() {
  step "4) Roll out v2 by config ($strategy)"
  show pulumi config set message "$DEMO_V2_MESSAGE"
  if [[ "$strategy" == Recreate ]]; then
    echo "Recreate stops every pod before it starts the new ones: a brief downtime"
    watched pulumi up --yes --skip-preview --message "v2: $DEMO_V2_MESSAGE"
  else
    up "v2: $DEMO_V2_MESSAGE"
  fi
  ask
  step "5) Roll back to the previous update from the stack history"
  show demo-orq rollback --stack "$stack" --list
  watched demo-orq rollback --stack "$stack"
  ask
}

blue_green_v2_and_back() {
  step "4) Roll out v2 the blue/green way: into the idle color, then switch"
  show pulumi config set greenMessage "$DEMO_V2_MESSAGE"
  up "v2 into green (idle)"
  echo "live (blue):"; ask
  echo "preview (green):"; ask --service preview
  show pulumi config set liveColor green
  watched pulumi up --yes --skip-preview --message "switch to green"
  echo "gate: $(output gateResult)"
  ask
  step "5) Roll back: switch the Service back to blue (no pod restarts)"
  show kubectl -n "$(output namespace)" get pods -l "app=$(output deploymentName)" -L color
  watched demo-orq rollback --stack "$stack"
  show kubectl -n "$(output namespace)" get pods -l "app=$(output deploymentName)" -L color
  ask
}

canary_v2_and_back() {
  local v1_update
  v1_update="$(newest_update)"
  step "4) Roll out v2 by a stepped canary: 25%, 50%, then 100% and promote"
  show demo-orq canary --stack "$stack" --to-message "$DEMO_V2_MESSAGE" \
    --steps 25,50,100 --pause 2 --sample 3 "${users[@]}"
  ask
  step "5) Roll back to update $v1_update (v1) from the stack history"
  show demo-orq rollback --stack "$stack" --list
  watched demo-orq rollback --stack "$stack" --to "$v1_update"
  ask
}

main() {
  setup
  step "1) Deploy v1 ($strategy): namespace, Deployments and NodePort Services"
  up "v1: $DEMO_V1_MESSAGE"
  evidence
  reach
  step "3) Scale to $DEMO_SCALED_REPLICAS by config"
  show pulumi config set replicas "$DEMO_SCALED_REPLICAS"
  up "scale to $DEMO_SCALED_REPLICAS"
  evidence
  case "$strategy" in
    BlueGreen) blue_green_v2_and_back ;;
    Canary) canary_v2_and_back ;;
    *) rolling_v2_and_back ;;
  esac
  heal
  step "7) Back to $stack_file as it was before the demo"
  put_stack_file_back
  up "back to $stack_file"
  step "8) Report: availability, latency, CPU/memory, deploy time, rollback rate, MTTR"
  show demo-orq report --stack "$stack" --probe-seconds 10
  step "Done. Stack outputs:"
  show pulumi stack output
  echo "Clean up with: source toolchain/env.sh && pulumi destroy --stack $stack"
}

main
