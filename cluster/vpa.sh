#!/usr/bin/env bash
# See cluster.sh and docs/vpa.md: installs the VPA add-on (VPA CRDs and the recommender).
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" vpa "$@"
