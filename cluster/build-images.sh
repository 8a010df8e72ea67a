#!/usr/bin/env bash
# Build the cluster's images as docker-archive tarballs in $CACHE/images (no Docker, no
# registry): pause, http-echo (and its slow twin for tests) and netcheck from their sources
# here, CoreDNS and metrics-server from their published Go modules (images/<name>/go.mod pins
# the version, go.sum the hashes).
# cluster.sh up imports them into containerd's k8s.io namespace. A second run is a no-op.
set -euo pipefail
if (($#)); then
  printf "error: unexpected argument '%s' for %s (accepted: none)\n" "$1" "${0##*/}" >&2
  exit 2
fi
# shellcheck source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# What an image is made of: its sources, make-image.py, its tag, its flags and the Go release.
# The tarball is kept while they stay the same, whatever their files' times (a fresh clone).
inputs_sum() {  # src tag ldflags
  {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    sha256sum < "$CLUSTER_DIR/images/make-image.py"
    echo "$2 $3 $GO_TOOLCHAIN_FOR_KUBE"
  } | sha256sum | cut -d' ' -f1
}

build_image() {  # name tag dest-path-in-image go-package [ldflags] [source folder in images/]
  local name=$1 tag=$2 dest=$3 package=$4 ldflags="-s -w ${5:-}" src="$CLUSTER_DIR/images/${6:-$1}"
  local out="$IMAGES_DIR/$name.tar" bin="$IMAGES_DIR/$name.bin" start=$SECONDS sum
  sum="$(inputs_sum "$src" "$tag" "$ldflags")"
  [[ -f "$out" && "$(cat "$out.inputs" 2>/dev/null)" == "$sum" ]] && return 0
  log "building image $tag (go build $package)"
  # -buildvcs=false: the same sources make the same binary in any checkout, so the same image.
  (cd "$src" && GOTOOLCHAIN="$GO_TOOLCHAIN_FOR_KUBE" GOFLAGS=-mod=readonly CGO_ENABLED=0 \
     go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$bin" "$package")
  python3 "$CLUSTER_DIR/images/make-image.py" --tag "$tag" --binary "$bin" --dest "$dest" --out "$out.tmp"
  mv "$out.tmp" "$out"
  echo "$sum" > "$out.inputs"
  rm -f "$bin"
  log "built image $tag in $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
}

mkdir -p "$IMAGES_DIR"
build_image pause "$PAUSE_IMAGE" /pause .
build_image http-echo "$ECHO_IMAGE" /http-echo .
build_image http-echo-slow "$SLOW_ECHO_IMAGE" /http-echo . "-X main.answerDelay=$SLOW_ECHO_DELAY" \
  http-echo
build_image netcheck "$NETCHECK_IMAGE" /netcheck .
build_image coredns "$COREDNS_IMAGE" /coredns .
build_image metrics-server "$METRICS_SERVER_IMAGE" /metrics-server \
  sigs.k8s.io/metrics-server/cmd/metrics-server \
  "-X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION"
