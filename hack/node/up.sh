#!/usr/bin/env bash
# Starts a single-node Kubernetes cluster on this machine, offline: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, containerd (with runc and
# the CNI bridge plugin), the kubelet and kube-proxy. Every binary comes from Debian
# (hack/node/host-packages.sh) or is built from the Go module proxy
# (hack/envtest-assets.sh, hack/node-assets.sh); the sandbox image is built locally.
#
# Prints the admin kubeconfig's path. Needs root. Stop it with hack/node/down.sh.
# Each start is a fresh cluster: whatever a previous one left is removed first.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "node: the kubelet and containerd need root" >&2
  exit 1
fi
start=$SECONDS
"$node_root/hack/node/host-packages.sh"
cp_bin=$("$node_root/hack/envtest-assets.sh")
node_bin=$("$node_root/hack/node-assets.sh")
"$node_root/hack/node/pause-image.sh"
"$node_root/hack/node/down.sh"

mkdir -p "$NODE_DIR"/{logs,etcd,kubelet,containerd,cni} "$NODE_RUN"
kubectl="$cp_bin/kubectl"
pki=$NODE_DIR/pki
"$node_root/hack/node/pki.sh" "$pki"

# run NAME COMMAND...: starts a component in the background, in a session of its own,
# logging to $NODE_DIR/logs/NAME.log; down.sh stops it by its pid.
run() {
  local name=$1; shift
  setsid "$@" >"$NODE_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$NODE_RUN/$name.pid"
}

# wait_for WHAT SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local what=$1 deadline=$((SECONDS + $2)); shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      node_log "$what did not come up; its log ends with:"
      tail -n 30 "$NODE_DIR/logs/$what.log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

# kubeconfig NAME USER: a kubeconfig for a component, with its client certificate.
kubeconfig() {
  local file=$NODE_DIR/$1.kubeconfig
  "$kubectl" config --kubeconfig "$file" set-cluster node --server "https://$NODE_IP:$APISERVER_PORT" \
    --certificate-authority "$pki/ca.crt" --embed-certs >/dev/null
  "$kubectl" config --kubeconfig "$file" set-credentials "$2" \
    --client-certificate "$pki/$1.crt" --client-key "$pki/$1.key" --embed-certs >/dev/null
  "$kubectl" config --kubeconfig "$file" set-context node --cluster node --user "$2" >/dev/null
  "$kubectl" config --kubeconfig "$file" use-context node >/dev/null
}
kubeconfig admin admin
kubeconfig kube-controller-manager system:kube-controller-manager
kubeconfig kube-scheduler system:kube-scheduler
kubeconfig kubelet "system:node:$NODE_NAME"
kubeconfig kube-proxy system:kube-proxy

# The pods' bridge exists before the first pod, so that the API server can listen on
# its address. Service traffic from the host goes to the bridge, not the default route.
ip link add "$NODE_BRIDGE" type bridge
ip addr add "$NODE_IP/24" dev "$NODE_BRIDGE"
ip link set "$NODE_BRIDGE" up
ip route replace "$SERVICE_CIDR" dev "$NODE_BRIDGE" src "$NODE_IP"
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1

mkdir -p "$NODE_DIR/cni/net.d"
cat >"$NODE_DIR/cni/net.d/10-pods.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": true,
      "hairpinMode": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_SUBNET", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$NODE_RUN/cni-ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON

# containerd of its own (root, state and sockets under the node's directories), so
# that it neither uses nor disturbs any other containerd on the machine.
cat >"$NODE_DIR/containerd/config.toml" <<TOML
version = 2
root = "$NODE_DIR/containerd/root"
state = "$NODE_RUN/containerd"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Lowering a process's oom_score_adj takes CAP_SYS_RESOURCE, which machines of this
  # kind withhold even from root: without this, every sandbox (-998) fails to start
  # with "failed to update /proc/self/oom_score_adj: Permission denied".
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # The host has cgroup v1 without systemd: the kubelet uses cgroupfs too.
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni/net.d"
TOML
run containerd containerd --config "$NODE_DIR/containerd/config.toml"
wait_for containerd 30 node_ctr version
node_load_image "$PAUSE_IMAGE"

run etcd "$cp_bin/etcd" --name node --data-dir "$NODE_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
  --initial-cluster "node=http://127.0.0.1:$((ETCD_PORT + 1))" --listen-metrics-urls "" --log-level warn

run kube-apiserver "$cp_bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$APISERVER_PORT" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-issuer "https://kubernetes.default.svc.cluster.local" \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
  --profiling=false
wait_for kube-apiserver 90 "$kubectl" --kubeconfig "$KUBECONFIG_ADMIN" get --raw /readyz

run kube-controller-manager "$node_bin/kube-controller-manager" \
  --kubeconfig "$NODE_DIR/kube-controller-manager.kubeconfig" \
  --authentication-kubeconfig "$NODE_DIR/kube-controller-manager.kubeconfig" \
  --authorization-kubeconfig "$NODE_DIR/kube-controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
  --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false
run kube-scheduler "$node_bin/kube-scheduler" \
  --kubeconfig "$NODE_DIR/kube-scheduler.kubeconfig" \
  --authentication-kubeconfig "$NODE_DIR/kube-scheduler.kubeconfig" \
  --authorization-kubeconfig "$NODE_DIR/kube-scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false --profiling=false

cat >"$NODE_DIR/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# The host has cgroup v1 (hybrid) and no systemd: the kubelet refuses cgroup v1
# unless told otherwise, and manages cgroups itself.
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
resolvConf: /etc/resolv.conf
# One node that must keep running what it has: no eviction for a busy disk.
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
YAML
run kubelet "$node_bin/kubelet" --config "$NODE_DIR/kubelet/config.yaml" \
  --kubeconfig "$NODE_DIR/kubelet.kubeconfig" --root-dir "$NODE_DIR/kubelet" \
  --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"

cat >"$NODE_DIR/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $NODE_DIR/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_SUBNET
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
nodePortAddresses: ["$NODE_IP/32"]
# Leave the host's conntrack table size alone.
conntrack: {maxPerCore: 0}
YAML
run kube-proxy "$node_bin/kube-proxy" --config "$NODE_DIR/kube-proxy.yaml"

wait_for kubelet 120 "$kubectl" --kubeconfig "$KUBECONFIG_ADMIN" wait --for=condition=Ready "node/$NODE_NAME" --timeout 2s
# Pods can be created once the service-account controller has made the default account.
wait_for kube-controller-manager 60 "$kubectl" --kubeconfig "$KUBECONFIG_ADMIN" get serviceaccount default
node_log "up in $((SECONDS - start))s; use: export KUBECONFIG=$KUBECONFIG_ADMIN"
echo "$KUBECONFIG_ADMIN"
