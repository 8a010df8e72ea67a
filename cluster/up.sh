#!/usr/bin/env bash
# See cluster.sh.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" up "$@"
