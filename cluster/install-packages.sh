#!/usr/bin/env bash
# Install the Debian packages the local cluster runs on (idempotent).
set -euo pipefail
if (($#)); then
  printf "error: unexpected argument '%s' for %s (accepted: none)\n" "$1" "${0##*/}" >&2
  exit 2
fi
# shellcheck source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# etcd-client: etcdctl, to read etcd as the API server does (tests/cluster/test_secrets_at_rest.py).
PACKAGES=(containerd runc containernetworking-plugins etcd-server etcd-client iptables conntrack
          openssl iproute2 util-linux procps curl patch)

missing=()
for p in "${PACKAGES[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
done
if (( ${#missing[@]} == 0 )); then
  log "packages already installed"
  exit 0
fi
[[ $EUID -eq 0 ]] || die "installing packages needs root: ${missing[*]}"
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The cluster runs its own containerd and etcd; the packages' system services are not used.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
log "packages installed"
