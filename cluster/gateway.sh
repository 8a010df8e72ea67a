#!/usr/bin/env bash
# See cluster.sh and docs/gateway.md: installs the gateway add-on (Gateway API CRDs and Traefik).
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" gateway "$@"
