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
    http-echo-faulty) echo "$FAULTY_ECHO_IMAGE" ;;
    http-echo-broken) echo "$BROKEN_ECHO_IMAGE" ;;
    coredns) echo "$COREDNS_IMAGE" ;;
    metrics-server) echo "$METRICS_SERVER_IMAGE" ;;
    netcheck) echo "$NETCHECK_IMAGE" ;;
    jobs) echo "$JOBS_IMAGE" ;;
    frontend) echo "$FRONTEND_IMAGE" ;;
    traefik) echo "$TRAEFIK_IMAGE" ;;
    vpa-recommender) echo "$VPA_RECOMMENDER_IMAGE" ;;
    prometheus) echo "$PROMETHEUS_IMAGE" ;;
    rules-loader) echo "$RULES_LOADER_IMAGE" ;;
    local-path-provisioner) echo "$LOCAL_PATH_IMAGE" ;;
    busybox) echo "$BUSYBOX_IMAGE" ;;
    kube-network-policies) echo "$NETWORK_POLICIES_IMAGE" ;;
    *) die "unknown image $1" ;;
  esac
}

# Also run by up on a healthy cluster: a tarball built from other inputs is imported again. The
# images built on demand (an add-on's) are imported whenever they are in the cache, so that a
# new state dir gets them back too.
import_images() {
  local name
  for name in "${IMAGE_NAMES[@]}"; do import_image "$name"; done
  for name in "${ON_DEMAND_IMAGE_NAMES[@]}"; do
    if [[ -f "$IMAGES_DIR/$name.tar" ]]; then import_image "$name"; fi
  done
}

import_image() {  # name
  local name=$1 ref sum marker
  marker="$STATE_DIR/containerd/imported-$name.sha256"
  ref="$(image_ref "$name")"
  # The key of what the tarball was built from (build-images.sh): reading it is instant, where a
  # checksum of the tarball itself takes a while for the larger images.
  sum="$(cat "$IMAGES_DIR/$name.tar.inputs")"
  if [[ ! -f "$marker" || "$(<"$marker")" != "$sum" ]]; then
    log "importing image $name into containerd"
    ctr_k8s images import "$IMAGES_DIR/$name.tar" >/dev/null
    echo "$sum" >"$marker"
  fi
  image_imported "$ref" || die "image $ref missing after import"
}

image_imported() { [[ -n "$(ctr_k8s images ls -q "name==$1")" ]]; }  # ref
