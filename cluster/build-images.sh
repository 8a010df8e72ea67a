#!/usr/bin/env bash
# Build the cluster's images as docker-archive tarballs in $CACHE/images (no Docker, no
# registry): pause, http-echo (and its slow twin for tests) and netcheck from their sources
# here, CoreDNS and metrics-server from their published Go modules (images/<name>/go.mod pins
# the version, go.sum the hashes).
# With an add-on's name: only that add-on's images, built in their own published modules (their
# go.mod and go.sum, replace directives included; the storage add-on's busybox from a Debian
# package; the network-policies add-on's agent from a patched copy); the add-on's script
# (cluster/gateway.sh...) asks for them.
# cluster.sh up imports them into containerd's k8s.io namespace. A second run is a no-op.
set -euo pipefail
ADDONS=(gateway prometheus storage vpa network-policies)
case "$#:${1:-}" in
  0:) ;;
  1:*) [[ " ${ADDONS[*]} " == *" $1 "* ]] || {
         printf "error: unknown add-on '%s' for %s (accepted: %s)\n" "$1" "${0##*/}" "${ADDONS[*]}" >&2
         exit 2; } ;;
  *) printf "error: at most one argument for %s, got %s (accepted: %s)\n" "${0##*/}" "$#" "${ADDONS[*]}" >&2
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
# Build tags, when given, are part of the inputs (an image without them keeps its key).
build_image() {  # name tag dest-path-in-image go-package [ldflags] [source folder] [go toolchain] [build tags]
  local name=$1 tag=$2 dest=$3 package=$4 ldflags="-s -w ${5:-}" src=${6:-$1}
  local go=${7:-$GO_TOOLCHAIN_FOR_KUBE} tags=${8:-}
  [[ $src == /* ]] || src="$CLUSTER_DIR/images/$src"
  local out="$IMAGES_DIR/$name.tar" bin="$IMAGES_DIR/$name.bin" start=$SECONDS sum
  sum="$(inputs_sum "$src" "$tag" "$ldflags" "$go${tags:+ -tags $tags}")"
  [[ -f "$out" && "$(cat "$out.inputs" 2>/dev/null)" == "$sum" ]] && return 0
  log "building image $tag (go build $package, $go${tags:+, -tags $tags})"
  go_build "$src" "$go" "$ldflags" "$tags" "$package" "$bin"
  python3 "$CLUSTER_DIR/images/make-image.py" --tag "$tag" --binary "$bin" --dest "$dest" --out "$out.tmp"
  mv "$out.tmp" "$out"
  echo "$sum" > "$out.inputs"
  rm -f "$bin"
  log "built image $tag in $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
}

# A static binary, the same for the same sources in any checkout (-buildvcs=false). GOWORK=off:
# a published module may carry a go.work naming folders its zip does not have (Prometheus').
go_build() {  # source-folder go-toolchain ldflags build-tags go-package out
  (cd "$1" && GOTOOLCHAIN="$2" GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 \
     go build -trimpath -buildvcs=false -tags "$4" -ldflags "$3" -o "$6" "$5")
}

build_core_images() {
  build_image pause "$PAUSE_IMAGE" /pause .
  build_image http-echo "$ECHO_IMAGE" /http-echo .
  build_image http-echo-slow "$SLOW_ECHO_IMAGE" /http-echo . "-X main.answerDelay=$SLOW_ECHO_DELAY" \
    http-echo
  build_image http-echo-faulty "$FAULTY_ECHO_IMAGE" /http-echo . \
    "-X main.failureEvery=$FAULTY_ECHO_FAILURE_EVERY" http-echo
  build_image http-echo-broken "$BROKEN_ECHO_IMAGE" /http-echo . "-X main.failureEvery=1" http-echo
  build_image netcheck "$NETCHECK_IMAGE" /netcheck .
  build_image jobs "$JOBS_IMAGE" /jobs .
  build_image frontend "$FRONTEND_IMAGE" /frontend .
  build_image coredns "$COREDNS_IMAGE" /coredns .
  build_image metrics-server "$METRICS_SERVER_IMAGE" /metrics-server \
    sigs.k8s.io/metrics-server/cmd/metrics-server \
    "-X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION"
}

build_gateway_images() {
  local module=github.com/traefik/traefik/v3 dir
  dir="$(module_dir "$module@$TRAEFIK_VERSION")"
  build_image traefik "$TRAEFIK_IMAGE" /traefik ./cmd/traefik \
    "-X $module/pkg/version.Version=$TRAEFIK_VERSION" "$dir" "$GO_TOOLCHAIN_FOR_TRAEFIK"
}

# Only the recommender (./pkg/recommender; its version is a constant of the module's common/).
build_vpa_images() {
  local dir
  dir="$(module_dir "k8s.io/autoscaler/vertical-pod-autoscaler@v$VPA_VERSION")"
  build_image vpa-recommender "$VPA_RECOMMENDER_IMAGE" /recommender ./pkg/recommender "" "$dir" \
    "$GO_TOOLCHAIN_FOR_VPA"
}

# Prometheus without the web UI's assets (no `builtinassets` tag: the UI would be read from
# ./web/ui/static, absent, so its pages answer 500; the API, /metrics and /-/ serve) and with no
# service discovery but Kubernetes' (and file and http, which the module always has); the rules
# loader; and promtool beside them in the cache ($PROMTOOL), for the add-on's checks.
build_prometheus_images() {
  local dir tags=remove_all_sd,enable_kubernetes_sd ldflags sum start
  dir="$(module_dir "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION")"
  [[ "v$(<"$dir/VERSION")" == "$PROMETHEUS_VERSION" ]] ||
    die "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION is Prometheus $(<"$dir/VERSION"), not $PROMETHEUS_VERSION"
  ldflags="-X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v}"
  build_image prometheus "$PROMETHEUS_IMAGE" /bin/prometheus ./cmd/prometheus "$ldflags" "$dir" \
    "$GO_TOOLCHAIN_FOR_PROMETHEUS" "$tags"
  ldflags="-s -w $ldflags"
  sum="$(inputs_sum "$dir" promtool "$ldflags" "$GO_TOOLCHAIN_FOR_PROMETHEUS -tags $tags")"
  if [[ ! -x "$PROMTOOL" || "$(cat "$PROMTOOL.inputs" 2>/dev/null)" != "$sum" ]]; then
    log "building promtool $PROMETHEUS_VERSION (go build ./cmd/promtool, $GO_TOOLCHAIN_FOR_PROMETHEUS)"
    start=$SECONDS
    mkdir -p "${PROMTOOL%/*}"
    go_build "$dir" "$GO_TOOLCHAIN_FOR_PROMETHEUS" "$ldflags" "$tags" ./cmd/promtool "$PROMTOOL.tmp"
    mv "$PROMTOOL.tmp" "$PROMTOOL"
    echo "$sum" >"$PROMTOOL.inputs"
    log "built $PROMTOOL in $((SECONDS - start))s"
  fi
  build_image rules-loader "$RULES_LOADER_IMAGE" /rules-loader .
}

# The provisioner (its main package at the module's root; its version in main.VERSION, as its
# scripts/build sets it) and the helper pods' busybox.
build_storage_images() {
  local dir
  dir="$(module_dir "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION")"
  build_image local-path-provisioner "$LOCAL_PATH_IMAGE" /usr/bin/local-path-provisioner . \
    "-X main.VERSION=$LOCAL_PATH_VERSION" "$dir" "$GO_TOOLCHAIN_FOR_LOCAL_PATH"
  build_busybox_image
}

# /bin/busybox of Debian's busybox-static as the image's one file, /bin/sh: that build's shell
# runs its applets (mkdir, rm, cat, sleep...) itself, without a link per applet on a PATH
# (FEATURE_SH_STANDALONE), so the helper pods' `/bin/sh /script/setup` has all it needs. The .deb
# is downloaded once per version into the cache (apt checks it against the signed index); the
# image is keyed like the others, by the binary, make-image.py, the tag and the version.
build_busybox_image() {
  local deb="$CACHE_DIR/debian/busybox-static_${BUSYBOX_DEBIAN_VERSION}_amd64.deb"
  local out="$IMAGES_DIR/busybox.tar" src sum start=$SECONDS
  if [[ ! -f "$deb" ]]; then
    log "downloading busybox-static $BUSYBOX_DEBIAN_VERSION (apt-get download)"
    src="$(mktemp -d)"
    # apt downloads as its own user, _apt, when it may write there.
    chmod 755 "$src" && { chown _apt "$src" 2>/dev/null || true; }
    (cd "$src" && apt-get download -q "busybox-static=$BUSYBOX_DEBIAN_VERSION" >/dev/null) ||
      die "apt-get download busybox-static=$BUSYBOX_DEBIAN_VERSION failed (run apt-get update; if \
the archive has a newer version now, set BUSYBOX_DEBIAN_VERSION in cluster/settings.env to it)"
    mkdir -p "${deb%/*}"
    mv "$src"/busybox-static_*.deb "$deb.tmp" && mv "$deb.tmp" "$deb"
    rm -rf "$src"
  fi
  src="$(mktemp -d)"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$src" ./bin/busybox
  sum="$(inputs_sum "$src/bin" "$BUSYBOX_IMAGE" /bin/sh "busybox-static $BUSYBOX_DEBIAN_VERSION")"
  if [[ ! -f "$out" || "$(cat "$out.inputs" 2>/dev/null)" != "$sum" ]]; then
    log "building image $BUSYBOX_IMAGE (/bin/busybox of busybox-static $BUSYBOX_DEBIAN_VERSION)"
    python3 "$CLUSTER_DIR/images/make-image.py" --tag "$BUSYBOX_IMAGE" \
      --binary "$src/bin/busybox" --dest /bin/sh --out "$out.tmp"
    mv "$out.tmp" "$out"
    echo "$sum" >"$out.inputs"
    log "built image $BUSYBOX_IMAGE in $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
  fi
  rm -rf "$src"
}

# The NetworkPolicy agent (./cmd, as upstream's Dockerfile builds /bin/netpol), from a copy of the
# module with patches/kube-network-policies/*.patch applied (the module cache is read-only); the
# copy is the image's source, so a changed patch makes a new image. It talks netlink alone
# (nftables, nfqueue): no iptables or nft binary in the image.
build_network_policies_images() {
  local dir src p
  dir="$(module_dir "sigs.k8s.io/kube-network-policies@$NETWORK_POLICIES_VERSION")"
  src="$(mktemp -d)"
  cp -r "$dir/." "$src" && chmod -R u+w "$src"
  for p in "$CLUSTER_DIR"/patches/kube-network-policies/*.patch; do
    patch -p1 -s -d "$src" <"$p" ||
      die "patch $p does not apply to sigs.k8s.io/kube-network-policies@$NETWORK_POLICIES_VERSION"
  done
  build_image kube-network-policies "$NETWORK_POLICIES_IMAGE" /bin/netpol ./cmd "" "$src" \
    "$GO_TOOLCHAIN_FOR_NETWORK_POLICIES"
  rm -rf "$src"
}

mkdir -p "$IMAGES_DIR"
# One build at a time: two callers (an add-on's install, a test that needs promtool) must not
# write the same tarball at once.
exec 9>"$IMAGES_DIR/.build.lock"
flock 9
if (($#)); then "build_${1//-/_}_images"; else build_core_images; fi
