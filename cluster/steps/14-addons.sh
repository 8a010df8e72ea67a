# shellcheck shell=bash
# The rendered manifests of addons/ (kube-system's Pod Security label, CoreDNS, metrics-server)
# and metrics-server's serving certificate, applied server-side (idempotent). Their pods start
# once the node is Ready; the dns and metrics-api steps wait for them.
step_addons() {
  kubectl_admin apply --server-side --force-conflicts --field-manager=demo-orq \
    -f "$CONF/addons/" >/dev/null
  kubectl_admin -n kube-system create secret tls metrics-server-tls --dry-run=client -o yaml \
    --cert="$PKI/metrics-server.crt" --key="$PKI/metrics-server.key" |
    kubectl_admin apply --server-side --force-conflicts --field-manager=demo-orq -f - >/dev/null
}

# The add-ons get 120 s together, counted from the first wait for one of them.
ADDONS_WAIT_START=""
wait_addon() {  # what check-command
  : "${ADDONS_WAIT_START:=$SECONDS}"
  until "$2"; do
    ((SECONDS - ADDONS_WAIT_START < 120)) || die "$1 does not answer after 120s: $(addon_pods)"
    sleep 0.5
  done
}

addon_pods() {
  kubectl_admin -n kube-system get pods -o wide 2>&1 || true
}
