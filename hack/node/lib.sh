# Sourced by the hack/node scripts: where the single-node cluster lives and how its
# parts reach each other.
#
# Everything stays on the machine: etcd and the components' ports listen on
# 127.0.0.1; the API server and the kubelet listen on the address of the pods'
# bridge (NODE_IP), the host end of a bridge no other machine is attached to, which
# is the one address both the host and the pods can reach.

node_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NODE_DIR=${NODE_DIR:-/var/lib/whatsapp-commerce-node}
NODE_RUN=${NODE_RUN:-/run/whatsapp-commerce-node}
NODE_NAME=${NODE_NAME:-whatsapp-commerce-node}
NODE_BRIDGE=wco0
NODE_IP=10.244.0.1
POD_SUBNET=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
SERVICE_API_IP=10.96.0.1
APISERVER_PORT=16443
ETCD_PORT=23790
PAUSE_IMAGE=localhost/whatsapp-commerce-node/pause:local
KUBECONFIG_ADMIN=$NODE_DIR/admin.kubeconfig
CONTAINERD_SOCK=$NODE_RUN/containerd.sock

node_log() { echo "node: $*" >&2; }

# node_ctr ARGS...: ctr against the node's containerd, in the namespace the kubelet uses.
node_ctr() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# node_pid NAME: the pid of a component the scripts started, if it still runs.
node_pid() {
  local f=$NODE_RUN/$1.pid pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# node_load_image IMAGE: copies IMAGE from buildah's local storage into the node's
# containerd, where the kubelet finds it without pulling.
node_load_image() {
  local archive
  archive=$(mktemp -u --suffix=.tar)
  buildah push --quiet "$1" "docker-archive:$archive:$1" >/dev/null
  node_ctr images import --no-unpack=false "$archive" >/dev/null
  rm -f "$archive"
}
