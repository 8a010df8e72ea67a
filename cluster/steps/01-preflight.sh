# shellcheck shell=bash
# Root, the binaries and images, the host's commands and the kernel features the cluster needs:
# each missing one fails with the fix.
step_preflight() {
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
