# shellcheck shell=bash
# What the add-ons installed on demand share (lib/gateway.sh, vpa.sh, prometheus.sh, storage.sh,
# network_policies.sh): server-side apply, the one install sequence and their line of status.
# The add-on NAME (dashes as underscores in its functions' names: N) defines N_installed,
# N_healthy, N_summary and deploy_N, and render_N when render_addon NAME is not enough.
# Uses seconds_since of cluster.sh.

apply_admin() {
  kubectl_admin apply --server-side --force-conflicts --field-manager=demo-orq "$@" >/dev/null
}

# install_addon NAME LABEL WHAT [FILE...]: installs or updates the add-on and waits until it
# serves; returns at once when it is installed, healthy, and what the checkout would apply (the
# FILEs, its CRDs say, and its manifests rendered into $CONF/NAME/) is what was applied last
# ($CONF/NAME.applied.sha256), so that a second run is a no-op. Else builds its images
# (build-images.sh NAME) and runs deploy_N T0: import the images, apply, wait until it is ready
# (T0, the start, for its own lines of log). LABEL names the add-on in the log, WHAT is what it
# installs.
install_addon() {
  local name=$1 label=$2 what=$3 fn=${1//-/_} t0=$EPOCHREALTIME sum applied
  shift 3
  applied="$CONF/$name.applied.sha256"
  if declare -F "render_$fn" >/dev/null; then "render_$fn"; else render_addon "$name" "$CONF/$name"; fi
  sum="$(cat "$@" "$CONF/$name"/*.yaml | sha256sum | cut -d' ' -f1)"
  if [[ "$(cat "$applied" 2>/dev/null)" == "$sum" ]] && "${fn}_healthy"; then
    log "$label add-on already installed and healthy ($("${fn}_summary"))"
    return 0
  fi
  log "installing the $label add-on ($what)"
  "$CLUSTER_DIR/build-images.sh" "$name"
  "deploy_$fn" "$t0"
  echo "$sum" >"$applied"
  log "$label add-on installed in $(seconds_since "$t0")s ($("${fn}_summary"))"
}

# addon_status TITLE NAME: the add-on's line of `status`: not installed, healthy (its summary),
# or unhealthy (and status 1).
addon_status() {
  local fn=${2//-/_} state
  if ! "${fn}_installed"; then state="not installed (cluster/$2.sh installs it)"
  elif "${fn}_healthy"; then state="healthy ($("${fn}_summary"))"
  else state=unhealthy
  fi
  printf '%-24s %-8s %s\n' "$1" - "$state"
  [[ $state != unhealthy ]]
}
