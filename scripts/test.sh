#!/usr/bin/env bash
# The project's test command: sets up what is missing (toolchain, local cluster), checks the
# code (ruff, ruff format, mypy), then runs every suite against the real engine and the real
# cluster. Extra arguments go to pytest (one process, in order).
#   usage: scripts/test.sh [pytest arguments]      e.g. scripts/test.sh tests/unit
#
# Without arguments, in three pytest processes (docs/testing.md): most of the end-to-end suite
# and, beside it, the rest of it with the cluster, policy, toolchain and unit suites (each suite
# in its own namespaces and node ports; the second's output is shown when the first ends); then,
# alone, the fault suite (it kills the cluster's components) and the check that the user's demo
# is exactly as before.
set -euo pipefail
project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"

lint() {
  echo "[test] ruff check, ruff format --check, mypy (strict on the program and the commands), gofmt and go vet (the language host)"
  ruff check --quiet .
  ruff format --check --quiet .
  mypy
  local unformatted; unformatted="$(gofmt -l toolchain/langhost)"
  [[ -z "$unformatted" ]] || { echo "[test] gofmt would change: $unformatted" >&2; return 1; }
  (cd toolchain/langhost && go vet ./...)
}

# The second process's share: about as long as the first's once both run.
BESIDE=(tests/cluster tests/policy tests/toolchain tests/unit tests/e2e/test_strategies_cloud.py
        tests/e2e/test_report.py tests/e2e/test_config_jobs.py tests/e2e/test_isolation.py
        tests/e2e/test_demo_command.py)

# Runs the suites; the status is the first failure's, else 0.
all_suites() {
  local work beside_pid status=0 beside_status=0 last_status=0
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  export DEMO_ORQ_USERS_DEMO_BEFORE="$work/users-demo-before.json"
  python -m tests.users_demo "$DEMO_ORQ_USERS_DEMO_BEFORE"
  echo "[test] tests/e2e here; beside it: ${BESIDE[*]}"
  python -m pytest "${BESIDE[@]}" >"$work/beside.log" 2>&1 &
  beside_pid=$!
  python -m pytest tests/e2e -m "not after_all" "${BESIDE[@]/#/--ignore=}" || status=$?
  wait "$beside_pid" || beside_status=$?
  echo "[test] ---- ${BESIDE[*]} (ran beside) ----"
  cat "$work/beside.log"
  ((status)) || status=$beside_status
  echo "[test] tests/faults alone, then the user's demo checked"
  python -m pytest tests/faults tests/e2e/test_users_demo_untouched.py || last_status=$?
  ((status)) || status=$last_status
  return "$status"
}

scripts/setup.sh
# shellcheck source=toolchain/env.sh
source toolchain/env.sh
lint
eval "$(cluster/status.sh --env)"
if [[ $# -gt 0 ]]; then
  exec python -m pytest "$@"
fi
all_suites
