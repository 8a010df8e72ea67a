#!/usr/bin/env bash
# See cluster.sh and docs/prometheus.md: installs the Prometheus add-on (Prometheus, its recording
# rules and the apps' rules loader).
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" prometheus "$@"
