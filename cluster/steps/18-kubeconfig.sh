# shellcheck shell=bash
# The admin's kubeconfig for the user (context $KUBE_CONTEXT), once the cluster serves.
step_kubeconfig() {
  write_kubeconfig "$KUBECONFIG_OUT" admin
}
