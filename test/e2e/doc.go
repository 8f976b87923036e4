// Package e2e tests the deployable form of the operator: the kustomize tree in
// config/, as a user or a GitOps tool installs it, against a real kube-apiserver
// and etcd, with the kubectl built alongside them (hack/envtest-assets.sh).
//
// What it covers:
//   - config/default renders, is accepted by the API server as one server-side
//     apply, and every rendered object then exists as rendered; its pod template
//     passes the "restricted" Pod Security Standard its namespace enforces;
//   - the single-file installer (`make build-installer`, dist/install.yaml)
//     installs into a fresh cluster and the samples apply on top of it;
//   - the optional components (network-policy, prometheus) render in an overlay and
//     select what they are meant to;
//   - the operator's ServiceAccount can do what the operator needs and nothing
//     more (kubectl auth can-i), and the generated ClusterRole stays within an
//     allow-list, without wildcards, and never lists or watches Secrets.
//
// Every test that needs a cluster starts its own control plane, so the tests are
// independent of each other and run in parallel.
package e2e
