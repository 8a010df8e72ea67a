# shellcheck shell=bash
# The storage add-on, installed on demand by `cluster.sh storage` (cluster/storage.sh), never by
# up: local-path-provisioner and its StorageClass, the cluster's default (addons/storage/,
# rendered into $CONF/storage/). A claim's volume is a directory of $STORAGE_DIR, which down and
# up keep. Its objects live in etcd like any others, so after down/up its pod comes back (up
# imports its images again when they are in the cache) and so do the claims' volumes.
# Installed by install_addon of lib/addons.sh, which uses the functions below.

STORAGE_CONF="$CONF/storage"

# Installs or updates the add-on and waits until the provisioner is Ready; returns at once when
# it is installed, healthy, and what the checkout would apply is what was applied.
install_storage() {
  install_addon storage storage \
    "local-path-provisioner $LOCAL_PATH_VERSION, StorageClass $STORAGE_CLASS"
}

# Its images imported, its volumes' directory made, its manifests applied; the provisioner Ready.
deploy_storage() {
  import_image local-path-provisioner
  import_image busybox
  # root's alone, as the state dir: each volume's own directory is what its pods see.
  mkdir -p "$STORAGE_DIR"
  chmod 700 "$STORAGE_DIR"
  # The namespace, then the configuration, then what reads it.
  apply_admin -f "$STORAGE_CONF/namespace.yaml" -f "$STORAGE_CONF/config.yaml" \
    -f "$STORAGE_CONF/provisioner.yaml"
  kubectl_storage rollout status deployment/local-path-provisioner --timeout=120s >/dev/null ||
    die "local-path-provisioner not ready after 120s: $(kubectl_storage get pods 2>&1)"
}

# The manifests, the Deployment's with the checksum of the ConfigMap (a new pod when it changes).
render_storage() {
  local f config_sum
  mkdir -p "$STORAGE_CONF"
  render "$CLUSTER_DIR/addons/storage/config.yaml" "$STORAGE_CONF/config.yaml"
  config_sum="$(sha256sum <"$STORAGE_CONF/config.yaml" | cut -d' ' -f1)"
  for f in "$CLUSTER_DIR"/addons/storage/*.yaml; do
    [[ ${f##*/} == config.yaml ]] ||
      render "$f" "$STORAGE_CONF/${f##*/}" "STORAGE_CONFIG_SHA256=$config_sum"
  done
}

kubectl_storage() { kubectl_admin -n "$STORAGE_NAMESPACE" "$@"; }

storage_healthy() {
  image_imported "$LOCAL_PATH_IMAGE" && image_imported "$BUSYBOX_IMAGE" &&
    storage_provisioner_ready && storage_class_is_default
}

storage_installed() {
  [[ -n "$(kubectl_storage get deployment local-path-provisioner --ignore-not-found -o name \
           2>/dev/null)" ]]
}

# The one replica is Ready and up to date.
storage_provisioner_ready() {
  local replicas
  replicas="$(kubectl_storage get deployment local-path-provisioner \
                -o jsonpath='{.spec.replicas} {.status.readyReplicas} {.status.updatedReplicas}' \
                2>/dev/null)" || return 1
  [[ "$replicas" =~ ^([1-9][0-9]*)\ ([0-9]+)\ ([0-9]+)$ ]] &&
    [[ ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" && ${BASH_REMATCH[1]} == "${BASH_REMATCH[3]}" ]]
}

storage_class_is_default() {
  [[ "$(kubectl_admin get storageclass "$STORAGE_CLASS" -o \
        jsonpath='{.provisioner} {.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}' \
        2>/dev/null)" == "rancher.io/local-path true" ]]
}

storage_summary() {
  echo "local-path-provisioner $LOCAL_PATH_VERSION in $STORAGE_NAMESPACE, default StorageClass" \
    "$STORAGE_CLASS, volumes in $STORAGE_DIR"
}
