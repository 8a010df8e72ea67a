# shellcheck shell=bash
# Listens on the node IP (the project's bridge), not on 127.0.0.1: that address is the
# endpoint of the `kubernetes` Service, so pods reach it; nothing listens on the
# machine's own interfaces. Anonymous requests are refused (CIS 1.2.1). PodSecurity is among
# the default admission plugins; --enable-admission-plugins only adds NodeRestriction.
# Everything after it needs it: up waits until it is ready.
step_kube_apiserver() {
  start_kube_apiserver
  expect_healthy kube-apiserver 90
  wait_expected
}

start_kube_apiserver() {
  start_component kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --etcd-servers="https://127.0.0.1:$ETCD_CLIENT_PORT" --etcd-cafile="$PKI/etcd-ca.crt" \
    --etcd-certfile="$PKI/apiserver-etcd-client.crt" --etcd-keyfile="$PKI/apiserver-etcd-client.key" \
    --bind-address="$NODE_IP" --secure-port="$APISERVER_PORT" --advertise-address="$NODE_IP" \
    --anonymous-auth=false \
    --tls-cert-file="$PKI/kube-apiserver.crt" --tls-private-key-file="$PKI/kube-apiserver.key" \
    --tls-min-version=VersionTLS12 --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
    --proxy-client-key-file="$PKI/front-proxy-client.key" --enable-aggregator-routing=true \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --service-node-port-range="$NODE_PORT_RANGE" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --profiling=false --cert-dir="$PKI/apiserver-generated"
}

# The health checks use the admin's certificate: the API server answers no anonymous request.
health_kube_apiserver() { curl_as ca admin "$APISERVER_URL/readyz"; }
