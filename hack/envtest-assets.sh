#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kubectl from the Go module proxy, so envtest and
# `make run` work on a machine that can reach nothing but the proxy; prints the
# directory that holds them (use it as KUBEBUILDER_ASSETS). Built once per
# Kubernetes version (see hack/lib/kube-build.sh).
set -euo pipefail
source "$(dirname "$0")/lib/kube-build.sh"

dest=${ENVTEST_ASSETS_CACHE:+$ENVTEST_ASSETS_CACHE/$kube_build_version}
dest=${dest:-$(kube_build_dest envtest)}
if ! kube_build_cached "$dest" etcd kube-apiserver kubectl; then
  echo "envtest-assets: building etcd, kube-apiserver and kubectl $kube_build_version from the Go module proxy (first time only, about 4 minutes)" >&2
  kube_build "$dest" \
    go.etcd.io/etcd/server/v3:etcd \
    k8s.io/kubernetes/cmd/kube-apiserver:kube-apiserver \
    k8s.io/kubernetes/cmd/kubectl:kubectl
fi
echo "$dest"
