#!/usr/bin/env bash
# Prints the path of a tool the tests and make targets use, building it from the
# Go module proxy the first time (see hack/lib/go-install.sh):
#   helm      Helm, for the chart's lint, template, install, upgrade and uninstall tests
#   promtool  Prometheus's rule checker and unit-test runner, for config/monitoring
set -euo pipefail
source "$(dirname "$0")/lib/go-install.sh"

helm_version=v3.22.0
prometheus_version=v0.316.0 # the module of Prometheus 3.16.0

case ${1:-} in
  helm)
    go_install helm helm.sh/helm/v3/cmd/helm "$helm_version" \
      "-X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean" ;;
  promtool)
    go_install promtool github.com/prometheus/prometheus/cmd/promtool "$prometheus_version" \
      "-X github.com/prometheus/common/version.Version=3.${prometheus_version#v0.}" ;;
  *)
    echo "usage: $0 helm|promtool" >&2
    exit 2 ;;
esac
