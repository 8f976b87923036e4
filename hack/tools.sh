#!/usr/bin/env bash
# Prints the path of a tool the tests and make targets use, building it from the
# Go module proxy the first time (see hack/lib/go-install.sh):
#   helm      Helm, for the chart's lint, template, install, upgrade and uninstall tests
#   promtool  Prometheus's rule checker and unit-test runner, for config/monitoring
set -euo pipefail
source "$(dirname "$0")/lib/go-install.sh"

helm_version=v3.22.0
# Prometheus 3.16.0 (the module's v0.3XX.Y is Prometheus 3.XX.Y). The PromQL
# parser the Go tests import is go.mod's, an older 3.x: the first release whose
# requirements leave the operator's own dependencies as they are.
prometheus_version=v0.316.0

# As Helm's release build does: `helm template` assumes the Kubernetes minor of
# the client-go Helm is built with (else 1.20, which the chart refuses).
helm_ldflags() {
  local gomod client_go
  gomod=$(go mod download -json "helm.sh/helm/v3@$helm_version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  client_go=$(awk '$1=="k8s.io/client-go" {print $2; exit}' "$gomod") # v0.MINOR.PATCH
  client_go=${client_go#v0.}
  echo "-X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${client_go%%.*}"
}

promtool_ldflags() {
  local v=${prometheus_version#v0.3}
  echo "-X github.com/prometheus/common/version.Version=3.$((10#${v%%.*})).${v#*.}"
}

case ${1:-} in
  helm) go_install helm helm.sh/helm/v3/cmd/helm "$helm_version" helm_ldflags ;;
  promtool) go_install promtool github.com/prometheus/prometheus/cmd/promtool "$prometheus_version" promtool_ldflags ;;
  *)
    echo "usage: $0 helm|promtool" >&2
    exit 2 ;;
esac
