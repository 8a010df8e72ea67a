# shellcheck shell=bash
# CoreDNS answers for the cluster.
step_dns() {
  wait_addon "the cluster DNS" dns_answers
  log "cluster DNS answers ($DNS_SERVICE_IP)"
}

# The cluster DNS answers with the `kubernetes` Service's address (asked from the host
# through the kube-dns Service, so kube-proxy's rules are part of the check).
dns_answers() {
  [[ "$("$CLUSTER_DIR/dns-query.py" "kubernetes.default.svc.$CLUSTER_DOMAIN" "$DNS_SERVICE_IP" \
         "$DNS_PORT" 2>/dev/null)" == "$SERVICE_API_IP" ]]
}
