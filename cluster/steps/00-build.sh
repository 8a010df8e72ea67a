# shellcheck shell=bash
# What up needs on disk, each script a no-op when it is there already: the Debian packages, the
# Kubernetes binaries (built from source) and the images (built here, never pulled).
step_build() {
  "$CLUSTER_DIR/install-packages.sh"
  "$CLUSTER_DIR/build-kubernetes.sh"
  "$CLUSTER_DIR/build-images.sh"
}
