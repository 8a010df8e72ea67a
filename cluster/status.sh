#!/usr/bin/env bash
# See cluster.sh. With --env: print only the export lines for eval.
set -euo pipefail
case "$#:${1:-}" in
  0:) exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" status ;;
  1:--env) exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" env ;;
  *) printf "error: unexpected argument '%s' for status.sh (accepted: --env)\n" "${@: -1}" >&2; exit 2 ;;
esac
