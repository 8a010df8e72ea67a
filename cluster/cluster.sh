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
  # (containerd's shims make their own groups, so they outlive a containerd restart.)
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

# SIGTERM (or the signal in $STOP_SIGNAL) to each component's process group at once, then
# wait; SIGKILL the slow ones.
stop_components() {
  local signal="${STOP_SIGNAL:-TERM}" name pid pids=() names=()
  for name in "$@"; do
    if pid="$(running_pid "$name")"; then
      log "stopping $name (pid $pid, SIG$signal)"
      kill "-$signal" -- "-$pid" 2>/dev/null || kill "-$signal" "$pid" 2>/dev/null || true
      pids+=("$pid") names+=("$name")
    fi
  done
  local i
  for i in "${!pids[@]}"; do
    # 10s: the apiserver otherwise waits up to a minute for clients' open watches.
    if ! wait_gone "${pids[i]}" 10; then
      log "${names[i]} did not exit after SIG$signal; sending SIGKILL"
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

# curl with a client certificate: the API server and etcd answer no anonymous request.
curl_as() {  # ca-name client-cert-name url
  curl -sf --max-time 2 --cacert "$PKI/$1.crt" --cert "$PKI/$2.crt" --key "$PKI/$2.key" "$3"
}

health() {  # name: one quick health probe
  case $1 in
    etcd) [[ "$(curl_as etcd-ca etcd-healthcheck-client "https://127.0.0.1:$ETCD_CLIENT_PORT/health")" \
             == *'"health":"true"'* ]] ;;
    containerd) ctr --address "$CONTAINERD_SOCK" version ;;
    kube-apiserver) curl_as ca admin "$APISERVER_URL/readyz" ;;
    # These two allow /healthz to anyone (only on 127.0.0.1); their serving certs are self-signed.
    kube-controller-manager) curl -sfk --max-time 2 "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz" ;;
    kube-scheduler) curl -sfk --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz" ;;
    kubelet) curl -sf --max-time 2 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz" ;;
    kube-proxy) curl -sf --max-time 2 "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz" ;;
  esac
}

node_ready() {
  [[ "$(kubectl_admin get node "$NODE_NAME" \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# The cluster DNS answers with the `kubernetes` Service's address (asked from the host
# through the kube-dns Service, so kube-proxy's rules are part of the check).
dns_answers() {
  [[ "$("$CLUSTER_DIR/dns-query.py" "kubernetes.default.svc.$CLUSTER_DOMAIN" "$DNS_SERVICE_IP" \
         "$DNS_PORT" 2>/dev/null)" == "$SERVICE_API_IP" ]]
}

# The aggregated metrics API answers (through the API server, from metrics-server).
metrics_api_serves() {
  kubectl_admin get --raw /apis/metrics.k8s.io/v1beta1/nodes --request-timeout=3s >/dev/null 2>&1
}

is_up() {
  local c
  for c in "${COMPONENTS[@]}"; do running_pid "$c" >/dev/null || return 1; done
  health kube-apiserver >/dev/null 2>&1 && node_ready && dns_answers && metrics_api_serves
}

# ---------------------------------------------------------------- checks

preflight() {
  [[ $EUID -eq 0 ]] || die "the cluster needs root (mounts, iptables, network devices)"
  local c
  for c in "${KUBE_COMPONENTS[@]}"; do
    [[ -x "$KUBE_BIN/$c" ]] || die "missing $KUBE_BIN/$c: run cluster/build-kubernetes.sh"
  done
  for c in "${IMAGE_NAMES[@]}"; do
    [[ -f "$IMAGES_DIR/$c.tar" ]] || die "missing image $IMAGES_DIR/$c.tar: run cluster/build-images.sh"
  done
  for c in etcd containerd containerd-shim-runc-v2 runc ctr iptables iptables-save iptables-restore \
           conntrack openssl ip curl python3; do
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
  for port in "${HOST_PORTS[@]}"; do
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

# Keys and the state dir are root's alone (CIS 1.1.x): created 600/700 and checked again on each up.
new_key() { [[ -f "$1" ]] || (umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$1"); }

new_ca() {  # name common-name
  [[ -f "$PKI/$1.crt" ]] && return 0
  new_key "$PKI/$1.key"
  openssl req -x509 -new -key "$PKI/$1.key" -subj "/CN=$2" -days 3650 -out "$PKI/$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

# A certificate signed by CA; made again when it is missing or no longer verifies against
# the CA (a new CA invalidates what the old one signed).
new_cert() {  # name subject extensions [ca]
  local name=$1 subject=$2 ext=$3 ca=${4:-ca}
  if [[ -f "$PKI/$name.crt" ]] &&
     openssl verify -CAfile "$PKI/$ca.crt" "$PKI/$name.crt" >/dev/null 2>&1; then
    return 0
  fi
  new_key "$PKI/$name.key"
  openssl req -new -key "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -out "$PKI/$name.crt" \
    -extfile <(printf '%b' "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n$ext") \
    2>/dev/null
  rm -f "$PKI/$name.csr"
}

# Three CAs, as kubeadm makes them: the cluster's, etcd's (only the API server is its client)
# and the front proxy's (the API server's identity towards aggregated APIs like metrics-server).
make_pki() {
  mkdir -p "$PKI"
  chmod 700 "$STATE_DIR" "$PKI"
  [[ -f "$PKI/ca.crt" ]] || log "creating certificates in $PKI"
  new_ca ca demo-orq-ca
  new_ca etcd-ca demo-orq-etcd-ca
  new_ca front-proxy-ca demo-orq-front-proxy-ca
  (umask 077
   [[ -f "$PKI/sa.key" ]] || openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
   [[ -f "$PKI/sa.pub" ]] || openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null)
  local client="extendedKeyUsage=clientAuth" server="extendedKeyUsage=serverAuth"
  local both="extendedKeyUsage=serverAuth,clientAuth"
  new_cert kube-apiserver "/CN=kube-apiserver" "$server\nsubjectAltName=\
DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,\
DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,IP:127.0.0.1,IP:$SERVICE_API_IP,IP:$NODE_IP"
  new_cert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" "$client"
  new_cert admin "/O=system:masters/CN=demo-orq-admin" "$client"
  new_cert kube-controller-manager "/CN=system:kube-controller-manager" "$client"
  new_cert kube-scheduler "/CN=system:kube-scheduler" "$client"
  new_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
  new_cert kubelet-serving "/O=system:nodes/CN=system:node:$NODE_NAME" \
    "$server\nsubjectAltName=DNS:$NODE_NAME,IP:$NODE_IP"
  new_cert kube-proxy "/CN=system:kube-proxy" "$client"
  new_cert metrics-server "/CN=metrics-server.kube-system.svc" "$server\nsubjectAltName=\
DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.$CLUSTER_DOMAIN"
  new_cert etcd-server "/CN=demo-orq-etcd" "$both\nsubjectAltName=DNS:localhost,IP:127.0.0.1" etcd-ca
  new_cert etcd-peer "/CN=demo-orq-etcd" "$both\nsubjectAltName=DNS:localhost,IP:127.0.0.1" etcd-ca
  new_cert apiserver-etcd-client "/CN=kube-apiserver-etcd-client" "$client" etcd-ca
  new_cert etcd-healthcheck-client "/CN=demo-orq-etcd-healthcheck" "$client" etcd-ca
  new_cert front-proxy-client "/CN=front-proxy-client" "$client" front-proxy-ca
  chmod 600 "$PKI"/*.key
}

write_kubeconfig() {  # file cert-name
  local out=$1 user=$2
  mkdir -p "$(dirname "$out")"
  render "$CLUSTER_DIR/templates/kubeconfig.yaml" "$out" "USER_NAME=$user" \
    "CA_DATA=$(base64 -w0 "$PKI/ca.crt")" "CERT_DATA=$(base64 -w0 "$PKI/$user.crt")" \
    "KEY_DATA=$(base64 -w0 "$PKI/$user.key")"
}

# ---------------------------------------------------------------- configuration

write_configs() {
  mkdir -p "$CONF/cni" "$CONF/addons" "$LOGS/pods" "$STATE_DIR/etcd" "$KUBELET_ROOT"
  chmod 700 "$CONF" "$STATE_DIR/etcd"
  local c
  for c in admin kube-controller-manager kube-scheduler kubelet kube-proxy; do
    write_kubeconfig "$CONF/$c.kubeconfig" "$c"
  done
  render "$CLUSTER_DIR/templates/containerd.toml" "$CONF/containerd.toml"
  render "$CLUSTER_DIR/templates/cni.conflist" "$CONF/cni/10-demo-orq.conflist"
  render "$CLUSTER_DIR/templates/kubelet.yaml" "$CONF/kubelet.yaml"
  render "$CLUSTER_DIR/templates/kube-proxy.yaml" "$CONF/kube-proxy.yaml"
  for c in "$CLUSTER_DIR"/addons/*.yaml; do
    render "$c" "$CONF/addons/${c##*/}" "CA_BUNDLE=$(base64 -w0 "$PKI/ca.crt")"
  done
}

setup_network() {
  # The CNI bridge plugin accepts an existing bridge that carries exactly its
  # gateway address, so the node IP (= gateway) exists before the first pod.
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip addr replace "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
}

image_ref() {  # name -> the reference the image is tagged with
  case $1 in
    pause) echo "$PAUSE_IMAGE" ;;
    http-echo) echo "$ECHO_IMAGE" ;;
    http-echo-slow) echo "$SLOW_ECHO_IMAGE" ;;
    coredns) echo "$COREDNS_IMAGE" ;;
    metrics-server) echo "$METRICS_SERVER_IMAGE" ;;
    netcheck) echo "$NETCHECK_IMAGE" ;;
    *) die "unknown image $1" ;;
  esac
}

import_images() {
  local name ref sum marker
  for name in "${IMAGE_NAMES[@]}"; do
    marker="$STATE_DIR/containerd/imported-$name.sha256"
    ref="$(image_ref "$name")"
    sum="$(sha256sum "$IMAGES_DIR/$name.tar" | cut -d' ' -f1)"
    if [[ ! -f "$marker" || "$(<"$marker")" != "$sum" ]]; then
      log "importing image $name into containerd"
      ctr_k8s images import "$IMAGES_DIR/$name.tar" >/dev/null
      echo "$sum" >"$marker"
    fi
    [[ -n "$(ctr_k8s images ls -q "name==$ref")" ]] || die "image $ref missing after import"
  done
}

# ---------------------------------------------------------------- components

# etcd serves TLS on 127.0.0.1 only and accepts only clients with a certificate of its own CA
# (the API server's, and the health check's); peers likewise (CIS 2.1-2.6).
start_etcd() {
  local client="https://127.0.0.1:$ETCD_CLIENT_PORT" peer="https://127.0.0.1:$ETCD_PEER_PORT"
  start_component etcd etcd --name demo-orq --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "demo-orq=$peer" --listen-metrics-urls "" \
    --cert-file "$PKI/etcd-server.crt" --key-file "$PKI/etcd-server.key" \
    --client-cert-auth --trusted-ca-file "$PKI/etcd-ca.crt" \
    --peer-cert-file "$PKI/etcd-peer.crt" --peer-key-file "$PKI/etcd-peer.key" \
    --peer-client-cert-auth --peer-trusted-ca-file "$PKI/etcd-ca.crt" \
    --quota-backend-bytes 2147483648 --log-level warn
}

start_containerd() {
  start_component containerd containerd --config "$CONF/containerd.toml"
}

# Listens on the node IP (the project's bridge), not on 127.0.0.1: that address is the
# endpoint of the `kubernetes` Service, so pods reach the API server; nothing listens on the
# machine's own interfaces. Anonymous requests are refused (CIS 1.2.1). PodSecurity is among
# the default admission plugins; --enable-admission-plugins only adds NodeRestriction.
start_apiserver() {
  start_component kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --etcd-servers="https://127.0.0.1:$ETCD_CLIENT_PORT" --etcd-cafile="$PKI/etcd-ca.crt" \
    --etcd-certfile="$PKI/apiserver-etcd-client.crt" --etcd-keyfile="$PKI/apiserver-etcd-client.key" \
    --bind-address="$NODE_IP" --secure-port="$APISERVER_PORT" --advertise-address="$NODE_IP" \
    --anonymous-auth=false \
    --tls-cert-file="$PKI/kube-apiserver.crt" --tls-private-key-file="$PKI/kube-apiserver.key" \
    --tls-min-version=VersionTLS12 --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
    --proxy-client-key-file="$PKI/front-proxy-client.key" --enable-aggregator-routing=true \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --service-node-port-range="$NODE_PORT_RANGE" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --profiling=false --cert-dir="$PKI/apiserver-generated"
}

start_controller_manager() {
  local kc="$CONF/kube-controller-manager.kubeconfig"
  start_component kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --secure-port="$CONTROLLER_MANAGER_PORT" --leader-elect=false \
    --controllers='*' \
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
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --profiling=false \
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

start_one() {  # component
  case $1 in
    etcd) start_etcd ;;
    containerd) start_containerd ;;
    kube-apiserver) start_apiserver ;;
    kube-controller-manager) start_controller_manager ;;
    kube-scheduler) start_scheduler ;;
    kubelet) start_kubelet ;;
    kube-proxy) start_kube_proxy ;;
  esac
}

# ---------------------------------------------------------------- add-ons

# The rendered manifests of addons/ (kube-system's Pod Security label, CoreDNS, metrics-server)
# and metrics-server's serving certificate, applied server-side (idempotent).
apply_addons() {
  kubectl_admin apply --server-side --force-conflicts --field-manager=demo-orq \
    -f "$CONF/addons/" >/dev/null
  kubectl_admin -n kube-system create secret tls metrics-server-tls --dry-run=client -o yaml \
    --cert="$PKI/metrics-server.crt" --key="$PKI/metrics-server.key" |
    kubectl_admin apply --server-side --force-conflicts --field-manager=demo-orq -f - >/dev/null
}

wait_addons() {
  local name start=$SECONDS
  until dns_answers; do
    ((SECONDS - start < 120)) || die "the cluster DNS does not answer after 120s: $(addon_pods)"
    sleep 0.5
  done
  log "cluster DNS answers ($DNS_SERVICE_IP)"
  until metrics_api_serves; do
    ((SECONDS - start < 120)) || die "the metrics API does not answer after 120s: $(addon_pods)"
    sleep 0.5
  done
  log "metrics API serves (metrics.k8s.io)"
}

addon_pods() {
  kubectl_admin -n kube-system get pods -o wide 2>&1 || true
}

# ---------------------------------------------------------------- commands

cmd_up() {
  local t0=$SECONDS
  if [[ $EUID -eq 0 ]] && [[ -x "$KUBE_BIN/kubectl" ]] && is_up; then
    # Images that a newer checkout added since the cluster started (built if missing).
    "$CLUSTER_DIR/build-images.sh"
    import_images
    write_kubeconfig "$KUBECONFIG_OUT" admin
    log "cluster already up (node $NODE_NAME Ready, DNS and metrics API answer); kubeconfig: $KUBECONFIG_OUT"
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

  start_controller_manager
  start_scheduler
  start_kubelet
  start_kube_proxy
  apply_addons
  local c
  for c in kube-controller-manager kube-scheduler kubelet kube-proxy; do
    wait_healthy "$c" 60 health "$c" && log "$c healthy"
  done
  log "waiting for node $NODE_NAME to be Ready"
  wait_healthy kubelet 120 node_ready
  log "node $NODE_NAME Ready"
  wait_addons

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
  wait_addons
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

main() {
  [[ $# -gt 0 ]] || usage_error "a command is needed (accepted: up, down, status, env, restart COMPONENT [--kill], kill)"
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
    *) usage_error "unknown command '$command' (accepted: up, down, status, env, restart COMPONENT [--kill], kill)" ;;
  esac
}

# Sourcing the file (for debugging single steps) defines the functions only.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
