# shellcheck shell=bash
# The images built here, imported into containerd's k8s.io namespace (nothing is ever pulled).
# Needs containerd; etcd, started beside it, is waited for here too.
step_images() {
  wait_expected
  import_images
}

image_ref() {  # name -> the reference the image is tagged with
  case $1 in
    pause) echo "$PAUSE_IMAGE" ;;
    http-echo) echo "$ECHO_IMAGE" ;;
    http-echo-slow) echo "$SLOW_ECHO_IMAGE" ;;
    coredns) echo "$COREDNS_IMAGE" ;;
    metrics-server) echo "$METRICS_SERVER_IMAGE" ;;
    netcheck) echo "$NETCHECK_IMAGE" ;;
    *) die "unknown image $1" ;;
  esac
}

# Also run by up on a healthy cluster: a tarball whose checksum changed is imported again.
import_images() {
  local name ref sum marker
  for name in "${IMAGE_NAMES[@]}"; do
    marker="$STATE_DIR/containerd/imported-$name.sha256"
    ref="$(image_ref "$name")"
    sum="$(sha256sum "$IMAGES_DIR/$name.tar" | cut -d' ' -f1)"
    if [[ ! -f "$marker" || "$(<"$marker")" != "$sum" ]]; then
      log "importing image $name into containerd"
      ctr_k8s images import "$IMAGES_DIR/$name.tar" >/dev/null
      echo "$sum" >"$marker"
    fi
    [[ -n "$(ctr_k8s images ls -q "name==$ref")" ]] || die "image $ref missing after import"
  done
}
