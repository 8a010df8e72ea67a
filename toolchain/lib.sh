# Shared settings of the toolchain scripts (sourced, not run).
toolchain_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project_root="$(dirname "$toolchain_root")"
# shellcheck source=toolchain/versions.env
source "$toolchain_root/versions.env"
cache_root="${DEMO_ORQ_CACHE:-$HOME/.cache/demo-orq}"

log() { printf '[toolchain %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[toolchain] error: %s\n' "$*" >&2; exit 1; }

cli_dir() { echo "$cache_root/pulumi/v$PULUMI_VERSION"; }
# The provider is built with the project's patches (toolchain/patches/pulumi-kubernetes): the
# cache is keyed by their content too, so that a changed patch builds a new provider.
provider_patches() { ls "$toolchain_root"/patches/pulumi-kubernetes/*.patch 2>/dev/null || true; }
provider_dir() {
  local sum; sum="$(provider_patches | xargs -r cat | sha256sum | cut -c1-12)"
  echo "$cache_root/pulumi-kubernetes/v$PULUMI_KUBERNETES_VERSION-$sum"
}
actionlint_dir() { echo "$cache_root/actionlint/v$ACTIONLINT_VERSION"; }
helm_dir() { echo "$cache_root/helm/v$HELM_VERSION"; }

# The directory of a Go module version in the module cache, downloaded through the proxy if needed.
module_dir() { go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }
