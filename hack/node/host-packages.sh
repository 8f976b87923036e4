#!/usr/bin/env bash
# Installs what the single-node cluster and `make image` need from the host's Debian
# repositories: the container runtime (containerd, runc), the CNI plugins, buildah,
# and the tools kube-proxy and the kubelet call (iptables, conntrack, ...).
# Idempotent: does nothing when everything is there.
set -euo pipefail

packages=(containerd runc containernetworking-plugins buildah iptables conntrack ethtool iproute2 procps socat ca-certificates openssl)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "host-packages: need root to install ${missing[*]}" >&2
  exit 1
fi
echo "host-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine may be empty or stale.
if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
  apt-get update >&2
  apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
