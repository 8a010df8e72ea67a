# Source this file to use the project's toolchain in the current shell:
#   source toolchain/env.sh
# It puts the Pulumi CLI (built by toolchain/ensure.sh, unless one was installed) and the
# project's virtualenv, with its `demo-orq` command, on PATH, and sets safe defaults that a
# user's own settings override.
_demo_orq_toolchain="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=toolchain/lib.sh
source "$_demo_orq_toolchain/lib.sh"
export PATH="$(cli_dir)/bin:$project_root/venv/bin:$PATH"
# The Go tools built by toolchain/ensure.sh (actionlint) or on demand (`--with helm`).
for _demo_orq_tool_bin in "$(actionlint_dir)/bin" "$(helm_dir)/bin"; do
  if [[ -d "$_demo_orq_tool_bin" ]]; then
    export PATH="$_demo_orq_tool_bin:$PATH"
  fi
done
# Local state inside the project (git-ignored): no account needed. `pulumi login` elsewhere
# and then setting PULUMI_BACKEND_URL yourself takes precedence.
if [[ -z "${PULUMI_BACKEND_URL:-}" ]]; then
  mkdir -p "$project_root/.pulumi-state"
  export PULUMI_BACKEND_URL="file://$project_root/.pulumi-state"
fi
# The documented passphrase of the local stacks' secrets; set your own to override it.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-demo-orq}"
# Nothing can be downloaded here: a missing plugin must fail at once, not try the network.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_UPDATE_CHECK=true
# Each Deployment await holds one of the engine's 4 x CPUs slots for seconds; more slots let a
# stack of many apps deploy at once instead of in waves (bench/: 30 apps up 63 s -> 14 s).
export PULUMI_PARALLEL="${PULUMI_PARALLEL:-32}"
unset _demo_orq_toolchain _demo_orq_tool_bin
