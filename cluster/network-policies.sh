#!/usr/bin/env bash
# See cluster.sh and docs/network-policies.md: installs the network-policies add-on
# (kube-network-policies, which enforces NetworkPolicy on the node).
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" network-policies "$@"
