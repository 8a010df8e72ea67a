#!/usr/bin/env bash
# Build the pause and http-echo images as docker-archive tarballs in
# $CACHE/images (no Docker, no registry). cluster.sh up imports them into
# containerd's k8s.io namespace.
set -euo pipefail
# shellcheck source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build_image() {  # name tag dest-path-in-image
  local name=$1 tag=$2 dest=$3 src="$CLUSTER_DIR/images/$1"
  local out="$IMAGES_DIR/$name.tar" bin="$IMAGES_DIR/$name.bin"
  if [[ -f "$out" && "$out" -nt "$src/main.go" && "$out" -nt "$CLUSTER_DIR/images/make-image.py" ]]; then
    return 0
  fi
  log "building image $tag"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin" .)
  python3 "$CLUSTER_DIR/images/make-image.py" --tag "$tag" --binary "$bin" --dest "$dest" --out "$out.tmp"
  mv "$out.tmp" "$out"
  rm -f "$bin"
}

mkdir -p "$IMAGES_DIR"
build_image pause "$PAUSE_IMAGE" /pause
build_image http-echo "$ECHO_IMAGE" /http-echo
