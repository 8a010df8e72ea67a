#!/usr/bin/env bash
# The benchmark command: Pulumi against kubectl on the local cluster (see bench/__main__.py).
#   usage: bench/run.sh [--runs N] [--cases 1,2,...] [--out FILE]
# It needs the toolchain (toolchain/ensure.sh) and a running cluster (cluster/up.sh).
set -euo pipefail
project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"
# shellcheck source=toolchain/env.sh
source toolchain/env.sh
eval "$(cluster/status.sh --env)"
exec python -m bench "$@"
