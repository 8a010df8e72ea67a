#!/usr/bin/env bash
# Sets up what is missing, both at once: the Pulumi toolchain (toolchain/ensure.sh) and the local
# cluster (cluster/up.sh). On a cold machine their builds overlap (downloads, linking), which
# saves several minutes over one after the other; when both are ready it takes seconds.
#   usage: scripts/setup.sh [--no-cluster]
set -euo pipefail
project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"

with_cluster=true
case "${1:-}" in
  "") ;;
  --no-cluster) with_cluster=false ;;
  *) echo "setup: unknown argument '$1' (accepted: --no-cluster)" >&2; exit 2 ;;
esac

if ! $with_cluster; then
  exec toolchain/ensure.sh
fi
# The cluster's lines are prefixed so that the two logs stay readable side by side.
cluster/up.sh > >(sed -u 's/^/[cluster] /') 2>&1 &
cluster=$!
toolchain_status=0
toolchain/ensure.sh || toolchain_status=$?
cluster_status=0
wait "$cluster" || cluster_status=$?
if ((toolchain_status != 0 || cluster_status != 0)); then
  echo "setup: failed (toolchain exit $toolchain_status, cluster exit $cluster_status)" >&2
  exit 1
fi
