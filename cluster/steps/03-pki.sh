# shellcheck shell=bash
# Three CAs, as kubeadm makes them: the cluster's, etcd's (only the API server is its client)
# and the front proxy's (the API server's identity towards aggregated APIs like metrics-server);
# the components' certificates, the ServiceAccount signing key, and the key that encrypts
# Secrets in etcd.
step_pki() {
  mkdir -p "$PKI"
  chmod 700 "$STATE_DIR" "$PKI"
  [[ -f "$PKI/ca.crt" ]] || log "creating certificates in $PKI"
  new_ca ca demo-orq-ca
  new_ca etcd-ca demo-orq-etcd-ca
  new_ca front-proxy-ca demo-orq-front-proxy-ca
  (umask 077
   [[ -f "$PKI/sa.key" ]] || openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
   [[ -f "$PKI/sa.pub" ]] || openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null)
  local client="extendedKeyUsage=clientAuth" server="extendedKeyUsage=serverAuth"
  local both="extendedKeyUsage=serverAuth,clientAuth"
  new_cert kube-apiserver "/CN=kube-apiserver" "$server\nsubjectAltName=\
DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,\
DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,IP:127.0.0.1,IP:$SERVICE_API_IP,IP:$NODE_IP"
  new_cert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" "$client"
  new_cert admin "/O=system:masters/CN=demo-orq-admin" "$client"
  new_cert kube-controller-manager "/CN=system:kube-controller-manager" "$client"
  new_cert kube-scheduler "/CN=system:kube-scheduler" "$client"
  new_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
  new_cert kubelet-serving "/O=system:nodes/CN=system:node:$NODE_NAME" \
    "$server\nsubjectAltName=DNS:$NODE_NAME,IP:$NODE_IP"
  new_cert kube-proxy "/CN=system:kube-proxy" "$client"
  new_cert metrics-server "/CN=metrics-server.kube-system.svc" "$server\nsubjectAltName=\
DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.$CLUSTER_DOMAIN"
  new_cert etcd-server "/CN=demo-orq-etcd" "$both\nsubjectAltName=DNS:localhost,IP:127.0.0.1" etcd-ca
  new_cert etcd-peer "/CN=demo-orq-etcd" "$both\nsubjectAltName=DNS:localhost,IP:127.0.0.1" etcd-ca
  new_cert apiserver-etcd-client "/CN=kube-apiserver-etcd-client" "$client" etcd-ca
  new_cert etcd-healthcheck-client "/CN=demo-orq-etcd-healthcheck" "$client" etcd-ca
  new_cert front-proxy-client "/CN=front-proxy-client" "$client" front-proxy-ca
  new_encryption_config
  chmod 600 "$PKI"/*.key "$PKI/encryption-config.yaml"
}

# The API server's EncryptionConfiguration, made once with its key (32 random bytes, base64),
# which it holds inline (the format has no key file); never printed, and never on a command
# line (printf is bash's own). secretbox (XSalsa20-Poly1305): authenticated like aesgcm, without
# aesgcm's 200,000-writes-per-key limit (random 12-byte nonces) nor aescbc's padding oracle
# (docs: "not recommended"); kms needs a plugin. identity last: what was stored before
# encryption stays readable until it is written again (the kube-apiserver step rewrites it).
# A new key goes first, under a new name (docs/security.md, rotating the key).
new_encryption_config() {
  local file="$PKI/encryption-config.yaml" key
  [[ -f "$file" ]] && return 0
  log "creating the Secrets encryption key in $file"
  key="$(openssl rand -base64 32)"
  (umask 077
   printf '%s\n' "apiVersion: apiserver.config.k8s.io/v1" "kind: EncryptionConfiguration" \
     "resources:" "  - resources:" "      - secrets" "    providers:" "      - secretbox:" \
     "          keys:" "            - name: key1" "              secret: $key" \
     "      - identity: {}" >"$file.tmp"
   mv "$file.tmp" "$file")
}

# The name of the key that encrypts new writes: the first of the config.
encryption_key_name() {
  awk '$1 == "-" && $2 == "name:" { print $3; exit }' "$PKI/encryption-config.yaml"
}

# Keys and the state dir are root's alone (CIS 1.1.x): created 600/700 and checked again on each up.
new_key() { [[ -f "$1" ]] || (umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$1"); }

new_ca() {  # name common-name
  [[ -f "$PKI/$1.crt" ]] && return 0
  new_key "$PKI/$1.key"
  openssl req -x509 -new -key "$PKI/$1.key" -subj "/CN=$2" -days 3650 -out "$PKI/$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

# A certificate signed by CA; made again when it is missing or no longer verifies against
# the CA (a new CA invalidates what the old one signed).
new_cert() {  # name subject extensions [ca]
  local name=$1 subject=$2 ext=$3 ca=${4:-ca}
  if [[ -f "$PKI/$name.crt" ]] &&
     openssl verify -CAfile "$PKI/$ca.crt" "$PKI/$name.crt" >/dev/null 2>&1; then
    return 0
  fi
  new_key "$PKI/$name.key"
  openssl req -new -key "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -out "$PKI/$name.crt" \
    -extfile <(printf '%b' "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n$ext") \
    2>/dev/null
  rm -f "$PKI/$name.csr"
}
