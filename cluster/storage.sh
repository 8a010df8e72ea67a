#!/usr/bin/env bash
# See cluster.sh and docs/storage.md: installs the storage add-on (local-path-provisioner and its
# StorageClass local-path, the cluster's default).
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" storage "$@"
