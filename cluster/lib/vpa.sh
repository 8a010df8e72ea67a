# shellcheck shell=bash
# The VPA add-on, installed on demand by `cluster.sh vpa` (cluster/vpa.sh), never by up: the
# Vertical Pod Autoscaler's CRDs (deploy/vpa-v1-crd-gen.yaml of the
# k8s.io/autoscaler/vertical-pod-autoscaler module) and its recommender alone (addons/vpa/,
# rendered into $CONF/vpa/). Its objects live in etcd like any others, so after down/up its pod
# comes back (up imports its image again when the image is in the cache).
# Installed by install_addon of lib/addons.sh, which uses the functions below.

VPA_CONF="$CONF/vpa"
# The CRDs (a file of the module), part of what is applied (and of its checksum).
VPA_CRDS=""

# Installs or updates the add-on and waits until the recommender is Ready; returns at once when
# it is installed, healthy, and what the checkout would apply is what was applied.
install_vpa() {
  VPA_CRDS="$(module_dir "k8s.io/autoscaler/vertical-pod-autoscaler@v$VPA_VERSION")"
  VPA_CRDS+=/deploy/vpa-v1-crd-gen.yaml
  install_addon vpa VPA "Vertical Pod Autoscaler $VPA_VERSION: CRDs and recommender" "$VPA_CRDS"
}

# Its image imported, the CRDs applied and Established, its manifests applied; the recommender
# Ready.
deploy_vpa() {  # t0
  local t0=$1
  import_image vpa-recommender
  apply_admin -f "$VPA_CRDS"
  kubectl_admin wait --for condition=Established --timeout=60s -f "$VPA_CRDS" >/dev/null
  log "VPA CRDs established ($(seconds_since "$t0")s)"
  apply_admin -f "$VPA_CONF"
  kubectl_vpa rollout status deployment/vpa-recommender --timeout=120s >/dev/null ||
    die "the VPA recommender not ready after 120s: $(kubectl_vpa get pods 2>&1)"
}

kubectl_vpa() { kubectl_admin -n "$VPA_NAMESPACE" "$@"; }

vpa_healthy() {
  image_imported "$VPA_RECOMMENDER_IMAGE" && vpa_recommender_ready && vpa_crds_established
}

vpa_installed() {
  [[ -n "$(kubectl_vpa get deployment vpa-recommender --ignore-not-found -o name 2>/dev/null)" ]]
}

# The one replica is Ready and up to date.
vpa_recommender_ready() {
  local replicas
  replicas="$(kubectl_vpa get deployment vpa-recommender \
                -o jsonpath='{.spec.replicas} {.status.readyReplicas} {.status.updatedReplicas}' \
                2>/dev/null)" || return 1
  [[ "$replicas" =~ ^([1-9][0-9]*)\ ([0-9]+)\ ([0-9]+)$ ]] &&
    [[ ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" && ${BASH_REMATCH[1]} == "${BASH_REMATCH[3]}" ]]
}

vpa_crds_established() {
  local crd
  for crd in verticalpodautoscalers verticalpodautoscalercheckpoints; do
    [[ "$(kubectl_admin get crd "$crd.autoscaling.k8s.io" -o \
          jsonpath='{.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" == True ]] ||
      return 1
  done
}

vpa_summary() {
  echo "recommender $VPA_VERSION in $VPA_NAMESPACE, every $VPA_RECOMMENDER_INTERVAL from" \
    "metrics.k8s.io; recommendations only (kubectl get vpa -A)"
}
