#!/usr/bin/env bash
# Builds the node's Kubernetes components (kubelet, kube-controller-manager,
# kube-scheduler, kube-proxy) from the Go module proxy, the same way and at the same
# version as hack/envtest-assets.sh builds the control plane, and crictl (the CRI
# client hack/node/down.sh stops pods with) from cri-tools of the same minor
# version; prints the directory that holds them. Built once per Kubernetes version.
set -euo pipefail
source "$(dirname "$0")/lib/kube-build.sh"

dest=$(kube_build_dest node)
if ! kube_build_cached "$dest" kubelet kube-controller-manager kube-scheduler kube-proxy; then
  echo "node-assets: building kubelet, kube-controller-manager, kube-scheduler and kube-proxy $kube_build_version from the Go module proxy (first time only, about 8 minutes)" >&2
  kube_build "$dest" \
    k8s.io/kubernetes/cmd/kubelet:kubelet \
    k8s.io/kubernetes/cmd/kube-controller-manager:kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler:kube-scheduler \
    k8s.io/kubernetes/cmd/kube-proxy:kube-proxy
fi
if ! kube_build_cached "$dest" crictl; then
  minor=${kube_build_version#v*.}; minor=${minor%%.*}
  echo "node-assets: building crictl v1.$minor.0 from the Go module proxy" >&2
  GOBIN=$dest CGO_ENABLED=0 go install -trimpath -ldflags="-s -w" "sigs.k8s.io/cri-tools/cmd/crictl@v1.$minor.0"
fi
echo "$dest"
