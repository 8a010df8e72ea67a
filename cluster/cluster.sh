#!/usr/bin/env bash
# demo-orq local Kubernetes cluster: upstream binaries run as plain processes.
#   cluster/up.sh     (= cluster.sh up)     bring the cluster up (idempotent; builds what is missing)
#   cluster/down.sh   (= cluster.sh down)   stop everything it started and clean the host
#   cluster/status.sh (= cluster.sh status) show components and the node
#   cluster/status.sh --env (= cluster.sh env)  print export lines: eval "$(cluster/status.sh --env)"
set -euo pipefail
# shellcheck source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Start order; down goes in reverse.
COMPONENTS=(etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
# Sysctls the kubelet, kube-proxy and the CNI bridge change; down restores them.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
         kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward
         net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables)

kubectl_admin() { "$KUBE_BIN/kubectl" --kubeconfig "$CONF/admin.kubeconfig" "$@"; }
ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# ---------------------------------------------------------------- processes

# Prints the PID of a component we started if it is still alive. The command
# line must mention the state dir, so a recycled PID is never taken for ours.
running_pid() {
  local f="$RUN/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(<"$f")"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
  [[ "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" == *"$STATE_DIR"* ]] || return 1
  echo "$pid"
}

start_component() {  # name command...
  local name=$1; shift
  mkdir -p "$LOGS" "$RUN"
  printf '\n===== %s starting %s\n' "$(date -Is)" "$name" >>"$LOGS/$name.log"
  # setsid: each component leads its own process group, which down kills whole.
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

wait_gone() {  # pid seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [[ -d "/proc/$1" ]] || return 0
    sleep 0.1
  done
  return 1
}

# SIGTERM to each component's process group at once, then wait; SIGKILL the slow ones.
stop_components() {
  local name pid pids=() names=()
  for name in "$@"; do
    if pid="$(running_pid "$name")"; then
      log "stopping $name (pid $pid)"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid") names+=("$name")
    fi
  done
  local i
  for i in "${!pids[@]}"; do
    # 10s: the apiserver otherwise waits up to a minute for clients' open watches.
    if ! wait_gone "${pids[i]}" 10; then
      log "${names[i]} did not exit after SIGTERM; sending SIGKILL"
      kill -KILL -- "-${pids[i]}" 2>/dev/null || kill -KILL "${pids[i]}" 2>/dev/null || true
      wait_gone "${pids[i]}" 10 || die "could not stop ${names[i]} (pid ${pids[i]})"
    fi
  done
  for name in "$@"; do rm -f "$RUN/$name.pid"; done
}

show_log() {
  printf -- '----- last lines of %s -----\n' "$LOGS/$1.log" >&2
  tail -n 25 "$LOGS/$1.log" >&2 2>/dev/null || true
  printf -- '-----\n' >&2
}

wait_healthy() {  # name timeout-seconds check-command...
  local name=$1 timeout=$2 start=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    if ! running_pid "$name" >/dev/null; then
      show_log "$name"
      die "$name exited during start-up (log: $LOGS/$name.log)"
    fi
    if ((SECONDS - start >= timeout)); then
      show_log "$name"
      die "$name not healthy after ${timeout}s (log: $LOGS/$name.log)"
    fi
    sleep 0.3
  done
}

health() {  # name: one quick health probe
  case $1 in
    etcd) [[ "$(curl -sf --max-time 2 http://127.0.0.1:2379/health)" == *'"health":"true"'* ]] ;;
    containerd) ctr --address "$CONTAINERD_SOCK" version ;;
    kube-apiserver) curl -sfk --max-time 2 https://127.0.0.1:6443/readyz ;;
    kube-controller-manager) curl -sfk --max-time 2 https://127.0.0.1:10257/healthz ;;
    kube-scheduler) curl -sfk --max-time 2 https://127.0.0.1:10259/healthz ;;
    kubelet) curl -sf --max-time 2 http://127.0.0.1:10248/healthz ;;
    kube-proxy) curl -sf --max-time 2 http://127.0.0.1:10256/healthz ;;
  esac
}

node_ready() {
  [[ "$(kubectl_admin get node "$NODE_NAME" \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

is_up() {
  local c
  for c in "${COMPONENTS[@]}"; do running_pid "$c" >/dev/null || return 1; done
  health kube-apiserver >/dev/null 2>&1 && node_ready
}

# ---------------------------------------------------------------- checks

preflight() {
  [[ $EUID -eq 0 ]] || die "the cluster needs root (mounts, iptables, network devices)"
  local c
  for c in "${KUBE_COMPONENTS[@]}"; do
    [[ -x "$KUBE_BIN/$c" ]] || die "missing $KUBE_BIN/$c: run cluster/build-kubernetes.sh"
  done
  for c in etcd containerd containerd-shim-runc-v2 runc ctr iptables iptables-save iptables-restore \
           conntrack openssl ip curl; do
    command -v "$c" >/dev/null || die "missing command $c: run cluster/install-packages.sh"
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] ||
    die "missing CNI plugins in /usr/lib/cni: run cluster/install-packages.sh"
  grep -qw overlay /proc/filesystems || die "kernel feature missing: overlay filesystem"
  [[ -e /dev/kmsg ]] || die "kernel feature missing: /dev/kmsg (the kubelet needs it)"
  [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] ||
    die "kernel feature missing: br_netfilter (/proc/sys/net/bridge/bridge-nf-call-iptables)"
  for c in cpu memory pids; do
    [[ -d "/sys/fs/cgroup/$c" ]] || grep -qw "$c" /sys/fs/cgroup/cgroup.controllers 2>/dev/null ||
      die "kernel feature missing: cgroup controller $c"
  done
  iptables -t nat -S >/dev/null 2>&1 || die "iptables does not work here (nat table)"
}

# Run only when none of our components is running: any listener is someone else's.
check_ports_free() {
  local port busy=()
  for port in 2379 2380 6443 10248 10249 10250 10256 10257 10259 30080; do
    [[ -z "$(ss -Hltn "sport = :$port")" ]] || busy+=("$port")
  done
  if ((${#busy[@]})); then
    ss -Hltnp | grep -E ":($(IFS='|'; echo "${busy[*]}")) " >&2 || true
    die "port(s) already in use by another program: ${busy[*]}"
  fi
}

# ---------------------------------------------------------------- host cleanup

# Processes the cluster started indirectly: containers (in the kubepods cgroups)
# and containerd's shims (their command line names our containerd socket).
leftover_pids() {
  find /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods -name cgroup.procs \
    -exec cat {} + 2>/dev/null || true
  local p
  for p in /proc/[0-9]*; do
    if [[ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" == *"-address $CONTAINERD_SOCK "* ]]; then
      echo "${p#/proc/}"
    fi
  done
  return 0
}

kill_leftovers() {
  local pids
  pids="$(leftover_pids | sort -u)"
  [[ -n "$pids" ]] || return 0
  log "killing $(wc -w <<<"$pids") container and shim processes"
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  local pid
  for pid in $pids; do wait_gone "$pid" 10 || log "warning: pid $pid still alive"; done
}

our_mounts() {
  awk -v s="$STATE_DIR/" 'index($5, s) == 1 || $5 ~ "^(/var)?/run/netns/cni-" { print $5 }' \
    /proc/self/mountinfo | sort -ru
}

unmount_all() {
  local pass m mounts
  for pass in 1 2 3 4 5; do
    mounts="$(our_mounts)"
    [[ -n "$mounts" ]] || break
    ((pass > 1)) || log "unmounting $(wc -l <<<"$mounts") mounts"
    while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done <<<"$mounts"
  done
  [[ -z "$(our_mounts)" ]] || log "warning: mounts left: $(our_mounts | tr '\n' ' ')"
  rm -f /run/netns/cni-* 2>/dev/null || true
  rmdir /run/netns 2>/dev/null || true   # only when empty: others may use it
}

# Delete the KUBE-* and CNI-* chains and every rule jumping to them.
clean_iptables() {  # iptables | ip6tables
  local ipt=$1 table rules chains jumps c
  command -v "$ipt-save" >/dev/null || return 0
  for table in filter nat mangle raw; do
    rules="$("$ipt-save" -t "$table" 2>/dev/null)" || continue
    chains="$(grep -oE '^:(KUBE|CNI)-[^ ]+' <<<"$rules" | cut -c2- || true)"
    jumps="$(grep -E '^-A .* -j (KUBE|CNI)-' <<<"$rules" | grep -vE '^-A (KUBE|CNI)-' || true)"
    [[ -n "$chains$jumps" ]] || continue
    {
      echo "*$table"
      # shellcheck disable=SC2001  # only the leading -A may change
      [[ -z "$jumps" ]] || sed 's/^-A /-D /' <<<"$jumps"
      for c in $chains; do echo "-F $c"; done
      for c in $chains; do echo "-X $c"; done
      echo COMMIT
    } | "$ipt-restore" --noflush || log "warning: could not clean $ipt table $table"
  done
}

remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [[ -d "$d" ]] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}

save_sysctls() {
  [[ -f "$RUN/sysctl.saved" ]] && return 0   # keep the values from before the first up
  mkdir -p "$RUN"
  local s
  for s in "${SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s" 2>/dev/null)"; done >"$RUN/sysctl.saved.tmp"
  mv "$RUN/sysctl.saved.tmp" "$RUN/sysctl.saved"
}

restore_sysctls() {
  [[ -f "$RUN/sysctl.saved" ]] || return 0
  local line
  while read -r line; do
    if [[ "$line" == *=?* ]]; then sysctl -qw "$line" 2>/dev/null || true; fi
  done <"$RUN/sysctl.saved"
  rm -f "$RUN/sysctl.saved"
}

# containerd 1.6 puts shim sockets in /run/containerd/s whatever its state dir;
# a killed shim leaves its socket behind. Nobody listens on a stale one.
remove_stale_shim_sockets() {
  local listening f
  listening="$(ss -Hxl | awk '{print $5}')"
  for f in /run/containerd/s/*; do
    if [[ -S "$f" ]] && ! grep -qxF "$f" <<<"$listening"; then rm -f "$f"; fi
  done
  rmdir /run/containerd/s /run/containerd 2>/dev/null || true
}

# Everything down does after the processes are stopped. Also run by up, so that
# leftovers of an unclean stop are never a reason to fail.
clean_host() {
  kill_leftovers
  unmount_all
  local veth
  for veth in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link del "$veth" 2>/dev/null || true
  done
  if ip link del "$BRIDGE" 2>/dev/null; then log "removed network device $BRIDGE"; fi
  clean_iptables iptables
  clean_iptables ip6tables
  conntrack -D -d "$POD_CIDR" >/dev/null 2>&1 || true
  remove_cgroups
  # Pod IP reservations, shim sockets and container log links of dead pods.
  rm -rf "$STATE_DIR/cni/networks"
  remove_stale_shim_sockets
  find /var/log/containers -maxdepth 1 -type l -lname "$LOGS/*" -delete 2>/dev/null || true
  rm -f "$CONTAINERD_SOCK" "$CONTAINERD_SOCK.ttrpc"
  restore_sysctls
}

stop_all() {
  stop_components kube-proxy kubelet kube-scheduler kube-controller-manager
  kill_leftovers  # containers and shims go before containerd, or they outlive it
  stop_components containerd kube-apiserver
  stop_components etcd
  clean_host
}

# ---------------------------------------------------------------- certificates

new_key() { [[ -f "$1" ]] || openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }

new_cert() {  # name subject extensions
  local name=$1 subject=$2 ext=$3
  [[ -f "$PKI/$name.crt" ]] && return 0
  new_key "$PKI/$name.key"
  openssl req -new -key "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -out "$PKI/$name.crt" \
    -extfile <(printf '%b' "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n$ext") \
    2>/dev/null
  rm -f "$PKI/$name.csr"
}

make_pki() {
  [[ -f "$PKI/ca.crt" ]] || rm -rf "$PKI"   # a new CA invalidates every other cert
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  if [[ ! -f "$PKI/ca.crt" ]]; then
    log "creating certificates in $PKI"
    new_key "$PKI/ca.key"
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=demo-orq-ca" -days 3650 -out "$PKI/ca.crt" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  fi
  [[ -f "$PKI/sa.key" ]] || openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  [[ -f "$PKI/sa.pub" ]] || openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  local client="extendedKeyUsage=clientAuth"
  new_cert kube-apiserver "/CN=kube-apiserver" "extendedKeyUsage=serverAuth\nsubjectAltName=\
DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,\
DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$SERVICE_API_IP,IP:$NODE_IP"
  new_cert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" "$client"
  new_cert admin "/O=system:masters/CN=demo-orq-admin" "$client"
  new_cert kube-controller-manager "/CN=system:kube-controller-manager" "$client"
  new_cert kube-scheduler "/CN=system:kube-scheduler" "$client"
  new_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
  new_cert kube-proxy "/CN=system:kube-proxy" "$client"
}

write_kubeconfig() {  # file cert-name
  local out=$1 user=$2
  mkdir -p "$(dirname "$out")"
  cat >"$out.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $KUBE_CONTEXT
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $KUBE_CONTEXT-$user
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$user.crt")
    client-key-data: $(base64 -w0 "$PKI/$user.key")
contexts:
- name: $KUBE_CONTEXT
  context:
    cluster: $KUBE_CONTEXT
    user: $KUBE_CONTEXT-$user
current-context: $KUBE_CONTEXT
EOF
  chmod 600 "$out.tmp"
  mv "$out.tmp" "$out"
}

# ---------------------------------------------------------------- configuration

write_configs() {
  mkdir -p "$CONF/cni" "$LOGS/pods" "$STATE_DIR/etcd" "$KUBELET_ROOT"
  local c
  for c in admin kube-controller-manager kube-scheduler kubelet kube-proxy; do
    write_kubeconfig "$CONF/$c.kubeconfig" "$c"
  done

  cat >"$CONF/containerd.toml" <<EOF
version = 2
root = "$STATE_DIR/containerd/root"
state = "$STATE_DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE_DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  # Keeps oom_score_adj >= containerd's own: lowering it needs CAP_SYS_RESOURCE, which this
  # kind of VM does not grant even to root (runc fails with "can't get final child's PID").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$STATE_DIR/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CONF/cni"
EOF

  cat >"$CONF/cni/10-demo-orq.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "demo-orq",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE_DIR/cni/networks",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  cat >"$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
failSwapOn: false
hairpinMode: hairpin-veth
podLogsDir: $LOGS/pods
serializeImagePulls: false
# No registry: images are imported, so image garbage collection must never remove them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
EOF

  cat >"$CONF/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $CONF/kube-proxy.kubeconfig
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
nodePortAddresses: ["127.0.0.0/8", "$NODE_IP/32"]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
iptables:
  localhostNodePorts: true
# Zero: leave the machine's conntrack settings alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF

  cat >"$CONF/rbac.yaml" <<EOF
# The apiserver's client identity towards the kubelet (logs, exec, port-forward).
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: demo-orq:kube-apiserver-kubelet-client
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:kubelet-api-admin
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: kube-apiserver-kubelet-client
EOF
}

setup_network() {
  # The CNI bridge plugin accepts an existing bridge that carries exactly its
  # gateway address, so the node IP (= gateway) exists before the first pod.
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip addr replace "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
}

import_images() {
  local name ref sum marker
  for name in pause http-echo; do
    marker="$STATE_DIR/containerd/imported-$name.sha256"
    sum="$(sha256sum "$IMAGES_DIR/$name.tar" | cut -d' ' -f1)"
    [[ -f "$marker" && "$(<"$marker")" == "$sum" ]] && continue
    log "importing image $name into containerd"
    ctr_k8s images import "$IMAGES_DIR/$name.tar" >/dev/null
    echo "$sum" >"$marker"
  done
  for ref in "$PAUSE_IMAGE" "$ECHO_IMAGE"; do
    [[ -n "$(ctr_k8s images ls -q "name==$ref")" ]] || die "image $ref missing after import"
  done
}

# ---------------------------------------------------------------- components

start_etcd() {
  start_component etcd etcd --name demo-orq --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster demo-orq=http://127.0.0.1:2380 --listen-metrics-urls "" \
    --quota-backend-bytes 2147483648 --log-level warn
}

start_containerd() {
  start_component containerd containerd --config "$CONF/containerd.toml"
}

start_apiserver() {
  start_component kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=127.0.0.1 --secure-port=6443 --advertise-address="$NODE_IP" \
    --tls-cert-file="$PKI/kube-apiserver.crt" --tls-private-key-file="$PKI/kube-apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --profiling=false --cert-dir="$PKI/apiserver-generated"
}

start_controller_manager() {
  local kc="$CONF/kube-controller-manager.kubeconfig"
  start_component kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --leader-elect=false --controllers='*' \
    --use-service-account-credentials=true --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" --cluster-name=demo-orq \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false \
    --cert-dir="$PKI/controller-manager-generated"
}

start_scheduler() {
  local kc="$CONF/kube-scheduler.kubeconfig"
  start_component kube-scheduler "$KUBE_BIN/kube-scheduler" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false \
    --cert-dir="$PKI/scheduler-generated"
}

start_kubelet() {
  start_component kubelet "$KUBE_BIN/kubelet" \
    --config="$CONF/kubelet.yaml" --kubeconfig="$CONF/kubelet.kubeconfig" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
    --root-dir="$KUBELET_ROOT" --cert-dir="$KUBELET_ROOT/pki" \
    --volume-plugin-dir="$KUBELET_ROOT/volume-plugins"
}

start_kube_proxy() {
  start_component kube-proxy "$KUBE_BIN/kube-proxy" --config="$CONF/kube-proxy.yaml"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  local t0=$SECONDS
  if [[ $EUID -eq 0 ]] && [[ -x "$KUBE_BIN/kubectl" ]] && is_up; then
    write_kubeconfig "$KUBECONFIG_OUT" admin
    log "cluster already up (node $NODE_NAME Ready); kubeconfig: $KUBECONFIG_OUT"
    return 0
  fi
  "$CLUSTER_DIR/install-packages.sh"
  "$CLUSTER_DIR/build-kubernetes.sh"
  "$CLUSTER_DIR/build-images.sh"
  preflight

  log "cleaning up leftovers of earlier runs"
  stop_all
  check_ports_free

  make_pki
  write_configs
  save_sysctls
  setup_network

  start_etcd
  start_containerd
  wait_healthy etcd 30 health etcd && log "etcd healthy"
  wait_healthy containerd 30 health containerd && log "containerd healthy"
  import_images

  start_apiserver
  wait_healthy kube-apiserver 90 health kube-apiserver && log "kube-apiserver healthy"
  kubectl_admin apply -f "$CONF/rbac.yaml" >/dev/null

  start_controller_manager
  start_scheduler
  start_kubelet
  start_kube_proxy
  local c
  for c in kube-controller-manager kube-scheduler kubelet kube-proxy; do
    wait_healthy "$c" 60 health "$c" && log "$c healthy"
  done
  log "waiting for node $NODE_NAME to be Ready"
  wait_healthy kubelet 120 node_ready
  log "node $NODE_NAME Ready"

  write_kubeconfig "$KUBECONFIG_OUT" admin
  log "cluster up in $((SECONDS - t0))s; kubeconfig $KUBECONFIG_OUT (context $KUBE_CONTEXT)"
  log "use it with: eval \"\$($CLUSTER_DIR/status.sh --env)\""
}

cmd_down() {
  [[ $EUID -eq 0 ]] || die "down needs root"
  local t0=$SECONDS
  stop_all
  log "cluster down in $((SECONDS - t0))s (data kept in $STATE_DIR)"
}

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

main() {
  case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
  esac
}

# Sourcing the file (for debugging single steps) defines the functions only.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
