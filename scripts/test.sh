#!/usr/bin/env bash
# The project's test command: sets up what is missing (toolchain, local cluster), checks the
# code (ruff, ruff format, mypy), then runs every suite against the real engine and the real
# cluster. Extra arguments go to pytest.
#   usage: scripts/test.sh [pytest arguments]      e.g. scripts/test.sh tests/unit
set -euo pipefail
project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"

lint() {
  echo "[test] ruff check, ruff format --check, mypy (strict on the program and the commands)"
  ruff check --quiet .
  ruff format --check --quiet .
  mypy
}

scripts/setup.sh
# shellcheck source=toolchain/env.sh
source toolchain/env.sh
lint
eval "$(cluster/status.sh --env)"
if [[ $# -eq 0 ]]; then
  set -- tests
fi
exec python -m pytest "$@"
