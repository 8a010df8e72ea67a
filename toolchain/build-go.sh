#!/usr/bin/env bash
# Builds the Pulumi CLI, the Kubernetes provider plugin and the Go tools the project uses
# (actionlint, Helm) from the Go module proxy into a cache outside the repository, keyed by
# version. A second run is a no-op.
#   usage: toolchain/build-go.sh cli|language-host|provider|actionlint|helm
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=toolchain/lib.sh
source "$here/lib.sh"

build_cli() {
  local out start=$SECONDS; out="$(cli_dir)"
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
  log "built $out/bin/pulumi in $((SECONDS - start)) s"
}

build_provider() {
  local out start=$SECONDS; out="$(provider_dir)"
  [[ -x "$out/bin/pulumi-resource-kubernetes" ]] && { log "provider v$PULUMI_KUBERNETES_VERSION already built in $out"; return; }
  log "building pulumi-resource-kubernetes v$PULUMI_KUBERNETES_VERSION (cold: ~10-20 min on 2 cores)"
  local module="github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_PROVIDER_MODULE"
  local cached; cached="$(module_dir "$module")"
  local src="$out/src"; rm -rf "$src"; mkdir -p "$out"
  cp -r "$cached" "$src"; chmod -R u+w "$src"
  # The provider's go.mod points the SDK at ../sdk (not in the module): use the published SDK.
  (cd "$src" && go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4 \
                             -require="github.com/pulumi/pulumi-kubernetes/sdk/v4@v$PULUMI_KUBERNETES_VERSION")
  local patch
  for patch in $(provider_patches); do
    log "applying $(basename "$patch")"
    (cd "$src" && git apply -p1 "$patch")
  done
  # main.go embeds schema-embed.json and terraform-mapping-embed.json, generated from the committed files.
  (cd "$src/cmd/pulumi-resource-kubernetes" && VERSION="$PULUMI_KUBERNETES_VERSION" go run -mod=mod generate.go)
  (cd "$src" && CGO_ENABLED=0 go build -mod=mod -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=v$PULUMI_KUBERNETES_VERSION" \
      -o "$out/bin/pulumi-resource-kubernetes.tmp" ./cmd/pulumi-resource-kubernetes)
  mv "$out/bin/pulumi-resource-kubernetes.tmp" "$out/bin/pulumi-resource-kubernetes"
  log "built $out/bin/pulumi-resource-kubernetes in $((SECONDS - start)) s"
}

# demo-orq's Python language host (toolchain/langhost), next to the CLI that starts it. Built
# again when its source changed (a stamp of its files), with the CLI's flags: Go's build cache
# then already holds its dependencies (gRPC, the sdk/v3 stubs), and it links in seconds.
build_language_host() {
  local bin start=$SECONDS; bin="$(cli_dir)/bin"
  local src="$toolchain_root/langhost" stamp="$bin/.pulumi-language-python.sha256"
  local want; want="$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -d' ' -f1)"
  if [[ -x "$bin/pulumi-language-python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "language host already built in $bin"
    return
  fi
  log "building the Python language host (toolchain/langhost)"
  mkdir -p "$bin"
  (cd "$src" && CGO_ENABLED=0 go build -mod=mod -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w" -o "$bin/pulumi-language-python.tmp" .)
  mv "$bin/pulumi-language-python.tmp" "$bin/pulumi-language-python"
  echo "$want" > "$stamp"
  log "built $bin/pulumi-language-python in $((SECONDS - start)) s"
}

# `go install <package>@<version>` into $out/bin, all or nothing: a failed build leaves no bin/.
go_install() {
  local out="$1" package="$2"; shift 2
  rm -rf "$out/bin.tmp"; mkdir -p "$out/bin.tmp"
  GOBIN="$out/bin.tmp" CGO_ENABLED=0 go install -trimpath "$@" "$package"
  rm -rf "${out:?}/bin"; mv "$out/bin.tmp" "$out/bin"
}

build_actionlint() {
  local out start=$SECONDS; out="$(actionlint_dir)"
  [[ -x "$out/bin/actionlint" ]] && { log "actionlint v$ACTIONLINT_VERSION already built in $out"; return; }
  log "building actionlint v$ACTIONLINT_VERSION from the Go module proxy (cold: ~1-2 min on 2 cores)"
  go_install "$out" "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION" -ldflags "-s -w"
  log "built $out/bin/actionlint in $((SECONDS - start)) s"
}

build_helm() {
  local out start=$SECONDS; out="$(helm_dir)"
  [[ -x "$out/bin/helm" ]] && { log "helm v$HELM_VERSION already built in $out"; return; }
  log "building helm v$HELM_VERSION from the Go module proxy (cold: ~3-5 min on 2 cores)"
  local module=helm.sh/helm/v3
  # As Helm's Makefile does: its version, and the Kubernetes version that `helm template` assumes
  # without a cluster, taken from the client-go it is built with (client-go v0.37.x -> 1.37).
  local client_go kube_minor
  client_go="$(awk '$1 == "k8s.io/client-go" {print $2}' "$(module_dir "$module@v$HELM_VERSION")/go.mod")"
  kube_minor="$(cut -d. -f2 <<<"$client_go")"
  [[ "$kube_minor" =~ ^[0-9]+$ ]] || die "cannot read the client-go version of helm v$HELM_VERSION (got '$client_go')"
  local flags="-s -w -X $module/internal/version.version=v$HELM_VERSION"
  local package
  for package in pkg/chartutil pkg/lint/rules; do
    flags+=" -X $module/$package.k8sVersionMajor=1 -X $module/$package.k8sVersionMinor=$kube_minor"
  done
  go_install "$out" "$module/cmd/helm@v$HELM_VERSION" -ldflags "$flags"
  log "built $out/bin/helm in $((SECONDS - start)) s"
}

case "${1:-}" in
  cli) build_cli ;;
  language-host) build_language_host ;;
  provider) build_provider ;;
  actionlint) build_actionlint ;;
  helm) build_helm ;;
  *) die "unknown tool '${1:-}' (accepted: cli, language-host, provider, actionlint, helm); usage: $0 <tool>" ;;
esac
