# Sourced by the hack/*-assets.sh scripts: builds Kubernetes binaries from the Go
# module proxy, so that a machine that can reach nothing but the proxy can run them.
#
# The Kubernetes version follows the k8s.io/api version in go.mod (v0.X.Y -> v1.X.Y).
# Binaries are cached outside the work tree, in one directory per set and version:
#   ${XDG_CACHE_HOME:-~/.cache}/whatsapp-commerce-operator/<set>/<version>

kube_build_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kube_build_api_version=$(cd "$kube_build_root" && go list -m -f '{{.Version}}' k8s.io/api)
kube_build_version="v1.${kube_build_api_version#v0.}"

# kube_build_dest SET: the cache directory of SET at the current version.
kube_build_dest() {
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/whatsapp-commerce-operator/$1/$kube_build_version"
}

# kube_build DEST PACKAGE:NAME...: builds each package (of k8s.io/kubernetes, one of
# its staging modules, or etcd) into DEST/NAME, in a throwaway module, and replaces
# DEST only once every binary is built.
kube_build() (
  set -euo pipefail
  local dest=$1; shift
  local k8s_version=$kube_build_version api_version=$kube_build_api_version
  log() { echo "kube-build: $*" >&2; }

  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cd "$work"

  # k8s.io/kubernetes is not meant to be required: its go.mod points every staging
  # module at ./staging. Pin each of them to the published v0.X.Y tag instead.
  go mod init kube-build >/dev/null 2>&1
  go mod download -json "k8s.io/kubernetes@$k8s_version" >/dev/null
  local kmod
  kmod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$k8s_version.mod
  local etcd_version
  etcd_version=$(awk '$1=="go.etcd.io/etcd/server/v3" {print $2; exit}' "$kmod")
  {
    echo "require k8s.io/kubernetes $k8s_version"
    echo "require go.etcd.io/etcd/server/v3 ${etcd_version:?no etcd server version in $kmod}"
    awk '$2=="=>" && $3 ~ /^\.\/staging\// {print $1}' "$kmod" | while read -r m; do
      echo "replace $m => $m $api_version"
    done
  } >>go.mod
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    local target
    for target in "$@"; do printf '\t_ "%s"\n' "${target%%:*}"; done
    printf ')\n'
  } >tools.go
  log "resolving modules"
  GOFLAGS=-mod=mod go mod tidy -e >&2

  local major=${k8s_version#v} minor=${k8s_version#v*.}
  major=${major%%.*}; minor=${minor%%.*}
  local ldflags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done

  mkdir -p "$dest.tmp"
  for target in "$@"; do
    log "go build ${target##*:} $k8s_version"
    CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "$ldflags" -o "$dest.tmp/${target##*:}" "${target%%:*}"
  done
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  log "cached in $dest"
)

# kube_build_cached DEST NAME...: whether every NAME is already built in DEST.
kube_build_cached() {
  local dest=$1 name; shift
  for name in "$@"; do [[ -x "$dest/$name" ]] || return 1; done
}
