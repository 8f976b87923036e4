# whatsapp-commerce-operator
#
#   make run    run the operator (starts a local control plane when no cluster is configured)
#   make test   every test: unit and integration against a real kube-apiserver + etcd,
#               then test/cluster on a local single-node cluster (needs root)

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

IMG ?= ghcr.io/whatsapp-commerce-operator/manager:v0.1.0
# The image `make image` builds; test/cluster/overlay installs it on the local node.
LOCAL_IMG ?= localhost/whatsapp-commerce-operator/manager:dev
ARGS ?=
# controller-gen is a `tool` in go.mod: its version is the one go.mod pins.
CONTROLLER_GEN := go tool controller-gen
CHART := charts/whatsapp-commerce-operator
# The chart's crds/ and files/ are copies of config/ (make chart-sync).
GENERATED := api/v1alpha1/zz_generated.deepcopy.go config/crd/bases config/rbac/role.yaml $(CHART)/crds $(CHART)/files

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate CRDs and RBAC from the kubebuilder markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: ## Generate the DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: chart-sync
chart-sync: manifests ## Copy the CRDs, ClusterRoles and admission policies of config/ into the Helm chart.
	rm -f $(CHART)/crds/*.yaml $(CHART)/files/rbac/*.yaml $(CHART)/files/policy/*.yaml
	cp config/crd/bases/*.yaml $(CHART)/crds/
	cp $$(grep -lx 'kind: ClusterRole' config/rbac/*.yaml) $(CHART)/files/rbac/
	mkdir -p $(CHART)/files/policy
	cp $$(grep -lx 'kind: ValidatingAdmissionPolicy' config/policy/*.yaml) $(CHART)/files/policy/

.PHONY: verify-generated
verify-generated: manifests generate chart-sync ## Fail when committed generated files are stale.
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
	  echo "generated files are stale; run 'make manifests generate' and commit:"; \
	  git status --porcelain -- $(GENERATED); git --no-pager diff --stat -- $(GENERATED); exit 1; fi

.PHONY: fmt
fmt: ## Check that every Go file is gofmt-clean.
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "not gofmt-clean (run gofmt -w):"; echo "$$out"; exit 1; fi

.PHONY: vet
vet: ## Run go vet on both modules (the test/cluster files too).
	go vet ./...
	cd test && go vet -tags cluster ./...

.PHONY: envtest-assets
envtest-assets: ## Build (once) etcd, kube-apiserver and kubectl and print where they are.
	@hack/envtest-assets.sh

.PHONY: tools
tools: ## Build (once) helm and promtool from the Go module proxy, for the chart and monitoring tests.
	@hack/tools.sh helm >/dev/null
	@hack/tools.sh promtool >/dev/null

# test/ is a module of its own, so the suites' heavy modules (Prometheus, the
# Grafana SDK, Lua, cli-utils) stay out of the operator's module graph.
.PHONY: test
test: manifests generate fmt vet tools ## Run every test: against a real kube-apiserver + etcd and a real PostgreSQL, then on the local node.
	assets=$$(hack/envtest-assets.sh); \
	  pgdir=$$(mktemp -d); trap '$(CURDIR)/hack/postgres.sh destroy "$$pgdir/pg"; rm -rf "$$pgdir"' EXIT; \
	  pgurl=$$(hack/postgres.sh start "$$pgdir/pg"); \
	  export KUBEBUILDER_ASSETS="$$assets" ARCHIVE_TEST_DATABASE_URL="$$pgurl"; \
	  go test ./... -count=1 $(TESTARGS); \
	  cd test && go test ./... -count=1 $(TESTARGS)
	$(MAKE) --no-print-directory test-cluster

.PHONY: test-cluster
test-cluster: ## Start the local node, build and load the image, run test/cluster, stop the node (KEEP_NODE=1 keeps it).
	assets=$$(hack/envtest-assets.sh); kubeconfig=$$(hack/node/up.sh); \
	  [[ -n "$(KEEP_NODE)" ]] || trap "$(CURDIR)/hack/node/down.sh" EXIT; \
	  hack/image.sh $(LOCAL_IMG); \
	  cd test && NODE_KUBECONFIG="$$kubeconfig" KUBEBUILDER_ASSETS="$$assets" go test -tags cluster ./cluster -count=1 -timeout 30m $(CLUSTER_TESTARGS)

##@ Local node

.PHONY: node-up
node-up: ## Start a fresh single-node cluster on this machine (root; prints its kubeconfig).
	@hack/node/up.sh

.PHONY: node-down
node-down: ## Stop the local node and remove everything it made.
	@hack/node/down.sh

.PHONY: bench
bench: ## Cost per order: 50 orders/s for 60 s, each accepted, notified and reported sent, delivered and read at WhatsApp's timing, the operator with its defaults, with --record-delay 2s and with --arrival-order, each beside direct creates and each request's price; BENCHARGS overrides (see docs/benchmarks.md; BENCHARGS="-n 2000" runs the receiver rounds and the memory phase).
	assets=$$(hack/envtest-assets.sh); KUBEBUILDER_ASSETS="$$assets" go run ./hack/bench $(or $(BENCHARGS),$(BENCH_DEFAULT))

# What `make bench` measures when BENCHARGS is not given: a business's load at WhatsApp's timing.
BENCH_DEFAULT := -rate 50 -duration 60s -status-ratio 3 -operators default,record-delay=2s,arrival-order -n 2000

.PHONY: fuzz
fuzz: ## Fuzz the webhook parser for FUZZTIME (default 60s).
	go test ./webhookreceiver/payload/ -run '^$$' -fuzz FuzzParse -fuzztime $(or $(FUZZTIME),60s)

##@ Build

.PHONY: build
build: manifests generate ## Build the manager binary.
	go build -o bin/manager .

.PHONY: plugin
plugin: ## Build the kubectl plugin, bin/kubectl-whatsapp (kubectl whatsapp once bin/ is on the PATH).
	go build -o bin/kubectl-whatsapp ./cmd/kubectl-whatsapp

.PHONY: helm-lint
helm-lint: chart-sync ## Lint the Helm chart with a real Helm.
	$$(hack/tools.sh helm) lint --strict $(CHART)

# Metrics in plain HTTP on :8080 (curl localhost:8080/metrics); a cluster install
# serves them over HTTPS to authorized scrapers only.
.PHONY: run
run: build ## Run the operator against the current kubeconfig, or a local control plane when there is none.
	assets=$$(hack/envtest-assets.sh); KUBEBUILDER_ASSETS="$$assets" go run ./hack/localrun -- bin/manager --metrics-secure=false --metrics-bind-address=:8080 $(ARGS)

.PHONY: image
image: ## Build LOCAL_IMG from the Dockerfile with buildah (no Docker daemon); loads it into the local node when it is up.
	hack/image.sh $(LOCAL_IMG)

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build -t $(IMG) .

KUBECTL = $$(hack/envtest-assets.sh)/kubectl

.PHONY: build-installer
build-installer: manifests ## Render config/default into dist/install.yaml (kubectl apply --server-side -f).
	mkdir -p dist
	$(KUBECTL) kustomize config/default > dist/install.yaml

.PHONY: install
install: manifests ## Install or upgrade the CRDs only.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: ## Delete the CRDs: this DELETES EVERY channel, order and inquiry in the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: manifests ## Install or upgrade the operator (CRDs, RBAC, Deployment) in the current cluster.
	$(KUBECTL) apply --server-side -k config/default

.PHONY: undeploy
undeploy: ## Remove the operator; the CRDs, and so every channel, order and inquiry, are kept.
	$(KUBECTL) delete --ignore-not-found -k config/default -l 'app.kubernetes.io/component!=crd'
