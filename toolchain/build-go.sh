#!/usr/bin/env bash
# Builds the Pulumi CLI and the Kubernetes provider plugin from the Go module proxy
# into a cache outside the repository, keyed by version. A second run is a no-op.
#   usage: toolchain/build-go.sh cli|provider
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=toolchain/lib.sh
source "$here/lib.sh"

build_cli() {
  local out; out="$(cli_dir)"
  [[ -x "$out/bin/pulumi" ]] && { log "pulumi v$PULUMI_VERSION already built in $out"; return; }
  log "building the Pulumi CLI v$PULUMI_VERSION from the Go module proxy (cold: ~10-20 min on 2 cores)"
  local src="$out/src"; rm -rf "$src"; mkdir -p "$src"
  # pkg/go.mod has replace lines (../sdk), so `go install pkg@version` refuses: build from a
  # throwaway module that requires pkg and sdk at the same version.
  cat > "$src/go.mod" <<MOD
module demo-orq/pulumi-cli
go 1.26
require (
	github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION
)
MOD
  (cd "$src" && CGO_ENABLED=0 go build -mod=mod -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$out/bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$out/bin/pulumi.tmp" "$out/bin/pulumi"
  log "built $out/bin/pulumi"
}

build_provider() {
  local out; out="$(provider_dir)"
  [[ -x "$out/bin/pulumi-resource-kubernetes" ]] && { log "provider v$PULUMI_KUBERNETES_VERSION already built in $out"; return; }
  log "building pulumi-resource-kubernetes v$PULUMI_KUBERNETES_VERSION (cold: ~10-20 min on 2 cores)"
  local module="github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_PROVIDER_MODULE"
  local cached; cached="$(module_dir "$module")"
  local src="$out/src"; rm -rf "$src"; mkdir -p "$out"
  cp -r "$cached" "$src"; chmod -R u+w "$src"
  # The provider's go.mod points the SDK at ../sdk (not in the module): use the published SDK.
  (cd "$src" && go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4 \
                             -require="github.com/pulumi/pulumi-kubernetes/sdk/v4@v$PULUMI_KUBERNETES_VERSION")
  # main.go embeds schema-embed.json and terraform-mapping-embed.json, generated from the committed files.
  (cd "$src/cmd/pulumi-resource-kubernetes" && VERSION="$PULUMI_KUBERNETES_VERSION" go run -mod=mod generate.go)
  (cd "$src" && CGO_ENABLED=0 go build -mod=mod -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=v$PULUMI_KUBERNETES_VERSION" \
      -o "$out/bin/pulumi-resource-kubernetes.tmp" ./cmd/pulumi-resource-kubernetes)
  mv "$out/bin/pulumi-resource-kubernetes.tmp" "$out/bin/pulumi-resource-kubernetes"
  log "built $out/bin/pulumi-resource-kubernetes"
}

case "${1:-}" in
  cli) build_cli ;;
  provider) build_provider ;;
  *) die "usage: $0 cli|provider (got '${1:-}')" ;;
esac
