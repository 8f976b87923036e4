#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kubectl from the Go module proxy, so envtest and
# `make run` work on a machine that can reach nothing but the proxy.
#
# The Kubernetes version follows the k8s.io/api version in go.mod (v0.X.Y -> v1.X.Y).
# The binaries are cached outside the work tree, keyed by version, and reused; the
# script prints the directory that holds them (use it as KUBEBUILDER_ASSETS).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
api_version=$(cd "$root" && go list -m -f '{{.Version}}' k8s.io/api)
k8s_version="v1.${api_version#v0.}"
cache=${ENVTEST_ASSETS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/whatsapp-commerce-operator/envtest}
dest="$cache/$k8s_version"

if [[ -x "$dest/etcd" && -x "$dest/kube-apiserver" && -x "$dest/kubectl" ]]; then
  echo "$dest"
  exit 0
fi

log() { echo "envtest-assets: $*" >&2; }
log "building etcd, kube-apiserver and kubectl $k8s_version from the Go module proxy (first time only, about 4 minutes)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# k8s.io/kubernetes is not meant to be required: its go.mod points every staging
# module at ./staging. Pin each of them to the published v0.X.Y tag instead.
go mod init envtest-assets >/dev/null 2>&1
go mod download -json "k8s.io/kubernetes@$k8s_version" >/dev/null
kmod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$k8s_version.mod
etcd_version=$(awk '$1=="go.etcd.io/etcd/server/v3" {print $2; exit}' "$kmod")
{
  echo "require k8s.io/kubernetes $k8s_version"
  echo "require go.etcd.io/etcd/server/v3 ${etcd_version:?no etcd server version in $kmod}"
  awk '$2=="=>" && $3 ~ /^\.\/staging\// {print $1}' "$kmod" | while read -r m; do
    echo "replace $m => $m $api_version"
  done
} >>go.mod
cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
log "resolving modules"
GOFLAGS=-mod=mod go mod tidy -e >&2

major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

mkdir -p "$dest.tmp"
for target in go.etcd.io/etcd/server/v3:etcd k8s.io/kubernetes/cmd/kube-apiserver:kube-apiserver k8s.io/kubernetes/cmd/kubectl:kubectl; do
  log "go build ${target##*:}"
  CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "$ldflags" -o "$dest.tmp/${target##*:}" "${target%%:*}"
done
rm -rf "$dest" && mv "$dest.tmp" "$dest"
log "cached in $dest"
echo "$dest"
