#!/usr/bin/env bash
# Builds the node's sandbox ("pause") image from hack/node/pause with buildah, into
# buildah's local storage: a static binary on an empty image, so that the node needs
# no registry. Rebuilt only when its source changes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if buildah inspect --type image "$PAUSE_IMAGE" >/dev/null 2>&1 &&
   [[ $(buildah inspect --type image --format '{{index .ImageAnnotations "dev.wa.commerce.source"}}' "$PAUSE_IMAGE") == "$(sha256sum <"$node_root/hack/node/pause/main.go" | cut -c1-64)" ]]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"; [[ -n ${ctr:-} ]] && buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
(cd "$node_root" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$work/pause" ./hack/node/pause)
ctr=$(buildah from scratch)
buildah copy --quiet "$ctr" "$work/pause" /pause >/dev/null
buildah config --entrypoint '["/pause"]' --user 65535:65535 \
  --annotation "dev.wa.commerce.source=$(sha256sum <"$node_root/hack/node/pause/main.go" | cut -c1-64)" "$ctr"
buildah commit --quiet --rm "$ctr" "$PAUSE_IMAGE" >/dev/null
ctr=
node_log "built $PAUSE_IMAGE"
