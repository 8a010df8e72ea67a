#!/usr/bin/env bash
# Build the cluster's images as docker-archive tarballs in $CACHE/images (no Docker, no
# registry): pause, http-echo (and its slow twin for tests) and netcheck from their sources
# here, CoreDNS and metrics-server from their published Go modules (images/<name>/go.mod pins
# the version, go.sum the hashes).
# With `gateway`: only the gateway add-on's image, Traefik, built in its own published module
# (its go.mod and go.sum, replace directives included); cluster/gateway.sh asks for it.
# cluster.sh up imports them into containerd's k8s.io namespace. A second run is a no-op.
set -euo pipefail
case "$#:${1:-}" in
  0: | 1:gateway) ;;
  *) printf "error: unexpected argument '%s' for %s (accepted: gateway)\n" "${@: -1}" "${0##*/}" >&2
     exit 2 ;;
esac
# shellcheck source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# What an image is made of: its sources, make-image.py, its tag, its flags and the Go release.
# The tarball is kept while they stay the same, whatever their files' times (a fresh clone).
inputs_sum() {  # src tag ldflags go-toolchain
  {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    sha256sum < "$CLUSTER_DIR/images/make-image.py"
    echo "$2 $3 $4"
  } | sha256sum | cut -d' ' -f1
}

# The source folder is one of images/ (by default the image's name) or an absolute path.
build_image() {  # name tag dest-path-in-image go-package [ldflags] [source folder] [go toolchain]
  local name=$1 tag=$2 dest=$3 package=$4 ldflags="-s -w ${5:-}" src=${6:-$1}
  local go=${7:-$GO_TOOLCHAIN_FOR_KUBE}
  [[ $src == /* ]] || src="$CLUSTER_DIR/images/$src"
  local out="$IMAGES_DIR/$name.tar" bin="$IMAGES_DIR/$name.bin" start=$SECONDS sum
  sum="$(inputs_sum "$src" "$tag" "$ldflags" "$go")"
  [[ -f "$out" && "$(cat "$out.inputs" 2>/dev/null)" == "$sum" ]] && return 0
  log "building image $tag (go build $package, $go)"
  # -buildvcs=false: the same sources make the same binary in any checkout, so the same image.
  (cd "$src" && GOTOOLCHAIN="$go" GOFLAGS=-mod=readonly CGO_ENABLED=0 \
     go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$bin" "$package")
  python3 "$CLUSTER_DIR/images/make-image.py" --tag "$tag" --binary "$bin" --dest "$dest" --out "$out.tmp"
  mv "$out.tmp" "$out"
  echo "$sum" > "$out.inputs"
  rm -f "$bin"
  log "built image $tag in $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
}

build_core_images() {
  build_image pause "$PAUSE_IMAGE" /pause .
  build_image http-echo "$ECHO_IMAGE" /http-echo .
  build_image http-echo-slow "$SLOW_ECHO_IMAGE" /http-echo . "-X main.answerDelay=$SLOW_ECHO_DELAY" \
    http-echo
  build_image netcheck "$NETCHECK_IMAGE" /netcheck .
  build_image coredns "$COREDNS_IMAGE" /coredns .
  build_image metrics-server "$METRICS_SERVER_IMAGE" /metrics-server \
    sigs.k8s.io/metrics-server/cmd/metrics-server \
    "-X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION"
}

build_gateway_image() {
  local module=github.com/traefik/traefik/v3 dir
  dir="$(module_dir "$module@$TRAEFIK_VERSION")"
  build_image traefik "$TRAEFIK_IMAGE" /traefik ./cmd/traefik \
    "-X $module/pkg/version.Version=$TRAEFIK_VERSION" "$dir" "$GO_TOOLCHAIN_FOR_TRAEFIK"
}

mkdir -p "$IMAGES_DIR"
if (($#)); then build_gateway_image; else build_core_images; fi
