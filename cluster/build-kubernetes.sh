#!/usr/bin/env bash
# Build the Kubernetes binaries the cluster needs from the k8s.io/kubernetes Go
# module (through the module proxy) into $CACHE/kubernetes/$KUBE_VERSION/bin, with the
# backported fixes of patches/*.patch applied to a copy of the module. A second run is a no-op.
set -euo pipefail
if (($#)); then
  printf "error: unexpected argument '%s' for %s (accepted: none)\n" "$1" "${0##*/}" >&2
  exit 2
fi
# shellcheck source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PATCHES=("$CLUSTER_DIR"/patches/*.patch)
PATCHES_ID="$(cat "${PATCHES[@]}" | sha256sum | cut -d' ' -f1)"

already_built() {
  local c
  for c in "${KUBE_COMPONENTS[@]}"; do [[ -x "$KUBE_BIN/$c" ]] || return 1; done
  [[ "$(cat "$KUBE_BIN/patches.sha256" 2>/dev/null)" == "$PATCHES_ID" ]] || return 1
  # No pipe into grep -q here: with pipefail, kubectl's SIGPIPE would count as a failure.
  [[ "$("$KUBE_BIN/kubectl" version --client 2>/dev/null)" == *"Client Version: $KUBE_VERSION"* ]]
}

if already_built; then
  log "kubernetes $KUBE_VERSION already built in $KUBE_BIN"
  exit 0
fi

minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
staging_version="v0.${KUBE_VERSION#v1.}"          # v1.30.14 -> v0.30.14
work="$CACHE_DIR/kubernetes/$KUBE_VERSION/module"
export GOTOOLCHAIN="$GO_TOOLCHAIN_FOR_KUBE" GOFLAGS="-mod=mod" CGO_ENABLED=0
mkdir -p "$work"
cd "$work"

log "fetching k8s.io/kubernetes@$KUBE_VERSION go.mod"
kube_gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[[ -f "$kube_gomod" ]] || die "could not download k8s.io/kubernetes@$KUBE_VERSION"

# k8s.io/kubernetes replaces its staging modules with ./staging paths, which do
# not exist in the published module: point each at its published v0.X.Y instead.
mapfile -t staging < <(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$kube_gomod")
(( ${#staging[@]} > 0 )) || die "no staging replaces found in $kube_gomod"
log "replacing ${#staging[@]} staging modules with $staging_version"
{
  echo "module demo-orq/kubernetes-build"
  echo
  echo "go 1.22.0"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do echo "  $m => $m $staging_version"; done
  echo ")"
} > go.mod

pkgs=()
for c in "${KUBE_COMPONENTS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
log "resolving dependencies (go get)"
go get "k8s.io/kubernetes@$KUBE_VERSION" "${pkgs[@]/%/@$KUBE_VERSION}"

# The module cache is read-only: the patches go to a copy, which replaces the module.
log "applying ${#PATCHES[@]} patch(es) from $CLUSTER_DIR/patches to a copy of the module"
rm -rf kubernetes
cp -r "$(go list -m -f '{{.Dir}}' k8s.io/kubernetes)" kubernetes
chmod -R u+w kubernetes
for p in "${PATCHES[@]}"; do
  patch -p1 -s -d kubernetes <"$p" || die "patch $p does not apply to k8s.io/kubernetes@$KUBE_VERSION"
done
go mod edit -replace k8s.io/kubernetes=./kubernetes

ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done

log "building ${KUBE_COMPONENTS[*]} with $(go version) (takes a long while on 2 cores)"
start=$SECONDS
rm -rf "$KUBE_BIN.tmp"; mkdir -p "$KUBE_BIN.tmp"
go build -trimpath -ldflags "$ldflags" -o "$KUBE_BIN.tmp/" "${pkgs[@]}"
echo "$PATCHES_ID" >"$KUBE_BIN.tmp/patches.sha256"
rm -rf "$KUBE_BIN"; mv "$KUBE_BIN.tmp" "$KUBE_BIN"
log "built in $((SECONDS - start))s into $KUBE_BIN"
"$KUBE_BIN/kubectl" version --client
