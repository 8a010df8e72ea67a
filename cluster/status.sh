#!/usr/bin/env bash
# See cluster.sh. With --env: print only the export lines for eval.
set -euo pipefail
if [[ "${1:-}" == --env ]]; then
  exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" env
fi
exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" status
