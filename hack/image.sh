#!/usr/bin/env bash
# `make image`: builds the manager image from the Dockerfile with buildah (no Docker
# daemon, no registry), and loads it into the local node's containerd when that node
# (hack/node/up.sh) is up.
#
# The Dockerfile's base images are replaced by two made here from the build machine,
# so the build needs nothing but the Go module proxy:
#   BUILDER_IMAGE  the machine's Go toolchain on an empty image (the builder's RUNs
#                  are in exec form and need no shell);
#   BASE_IMAGE     CA certificates, /etc/passwd with the nonroot user (65532) and /tmp,
#                  which is what distroless/static:nonroot holds.
# The modules come from the machine's module cache, mounted as a file:// proxy.
#
# usage: hack/image.sh IMAGE
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/hack/node/lib.sh"
img=${1:?usage: image.sh IMAGE}

"$root/hack/node/host-packages.sh"
log() { echo "image: $*" >&2; }

goroot=$(go env GOROOT)
gover=$(go env GOVERSION)
builder=localhost/whatsapp-commerce-operator/go:$gover
base=localhost/whatsapp-commerce-operator/static:nonroot
work=$(mktemp -d)
ctr=
trap 'rm -rf "$work"; [[ -n $ctr ]] && buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT

if ! buildah inspect --type image "$builder" >/dev/null 2>&1; then
  log "making $builder from $goroot"
  ctr=$(buildah from scratch)
  buildah copy --quiet "$ctr" "$goroot" /usr/local/go >/dev/null
  mkdir -m 1777 "$work/tmp"
  buildah copy --quiet "$ctr" "$work/tmp" /tmp >/dev/null
  buildah config --env PATH=/go/bin:/usr/local/go/bin --env GOPATH=/go --env GOTOOLCHAIN=local \
    --env HOME=/root "$ctr"
  buildah commit --quiet --rm "$ctr" "$builder" >/dev/null
  ctr=
fi

if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
  log "making $base"
  mkdir -p "$work/base/etc/ssl/certs" "$work/base/home/nonroot" "$work/base/tmp"
  chmod 1777 "$work/base/tmp"
  chown 65532:65532 "$work/base/home/nonroot"
  cp /etc/ssl/certs/ca-certificates.crt "$work/base/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$work/base/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$work/base/etc/group"
  ctr=$(buildah from scratch)
  buildah copy --quiet "$ctr" "$work/base" / >/dev/null
  buildah config --user 65532 --workingdir /home/nonroot "$ctr"
  buildah commit --quiet --rm "$ctr" "$base" >/dev/null
  ctr=
fi

# Every module the build needs, in the machine's cache (from the module proxy).
(cd "$root" && go mod download)
log "buildah bud -f Dockerfile -t $img"
buildah bud --quiet --layers --network none \
  --build-arg "BUILDER_IMAGE=$builder" --build-arg "BASE_IMAGE=$base" \
  --build-arg TARGETOS=linux --build-arg "TARGETARCH=$(go env GOARCH)" \
  --build-arg GOPROXY=file:///goproxy \
  --volume "$(go env GOMODCACHE)/cache/download:/goproxy:ro" \
  -f "$root/Dockerfile" -t "$img" "$root" >/dev/null

if node_pid containerd >/dev/null; then
  node_load_image "$img"
  log "loaded $img into the node's containerd"
fi
log "built $img"
