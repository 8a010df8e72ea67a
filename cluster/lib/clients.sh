# shellcheck shell=bash
# The cluster's own clients, as the admin: kubectl, containerd's ctr, and curl with a client
# certificate (the API server and etcd answer no anonymous request).

kubectl_admin() { "$KUBE_BIN/kubectl" --kubeconfig "$CONF/admin.kubeconfig" "$@"; }
ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

curl_as() {  # ca-name client-cert-name url
  curl -sf --max-time 2 --cacert "$PKI/$1.crt" --cert "$PKI/$2.crt" --key "$PKI/$2.key" "$3"
}
