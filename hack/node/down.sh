#!/usr/bin/env bash
# Stops the single-node cluster hack/node/up.sh started and removes everything it
# made: its pods and containers, mounts, network namespaces, the bridge, kube-proxy's
# iptables rules and the node's directories. Safe to run when nothing is up.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

source "$node_root/hack/lib/kube-build.sh"
node_bin=$(kube_build_dest node)

# stop NAME: SIGTERM, then SIGKILL after 10 s, for a component up.sh started.
stop() {
  local pid
  pid=$(node_pid "$1") || { rm -f "$NODE_RUN/$1.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$NODE_RUN/$1.pid"
}

stop kube-proxy
stop kubelet
# Stopping the pods through the CRI also tears down their network (veths, IPs).
if [[ -x $node_bin/crictl ]] && node_pid containerd >/dev/null; then
  "$node_bin/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCK" --timeout 20s rmp --all --force >/dev/null 2>&1 || true
fi
stop containerd
# The shims of our containerd outlive it; they are the processes given its socket.
for proc in /proc/[0-9]*; do
  if { tr '\0' ' ' <"$proc/cmdline"; } 2>/dev/null | grep -qF -- "-address $CONTAINERD_SOCK "; then
    kill -KILL "${proc#/proc/}" 2>/dev/null || true
  fi
done
stop kube-scheduler
stop kube-controller-manager
stop kube-apiserver
stop etcd

# kube-proxy's and the kubelet's iptables rules: every KUBE-* chain and every jump to one.
for ipt in iptables ip6tables; do
  for table in filter nat mangle; do
    rules=$($ipt -t "$table" -S 2>/dev/null) || continue
    awk '$1=="-A" && $2 !~ /^KUBE-/ && / -j KUBE-/ {sub(/^-A/, "-D"); print}' <<<"$rules" |
      while read -r rule; do eval "$ipt -t $table $rule" || true; done
    chains=$(awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}' <<<"$rules")
    for c in $chains; do $ipt -t "$table" -F "$c"; done
    for c in $chains; do $ipt -t "$table" -X "$c"; done
  done
done
# Mounts under the node's directories, deepest first.
awk -v a="$NODE_DIR" -v b="$NODE_RUN" 'index($2, a"/")==1 || index($2, b"/")==1 {print $2}' /proc/mounts |
  sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
# Network namespaces of our pods: the ones holding an address of the pods' subnet.
for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ {print $1}'); do
  if ip -n "$ns" -4 -o addr 2>/dev/null | grep -q " ${POD_SUBNET%.*}\."; then
    ip netns delete "$ns" 2>/dev/null || true
  fi
done
ip link delete "$NODE_BRIDGE" 2>/dev/null || true
ip route delete "$SERVICE_CIDR" 2>/dev/null || true
rm -rf "$NODE_DIR" "$NODE_RUN"
