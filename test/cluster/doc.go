//go:build cluster

// Package cluster runs the operator as users run it: the Deployment of
// config/default (through test/cluster/overlay, which only sets the image `make
// image` builds), from that image, on the single-node cluster hack/node/up.sh
// starts (containerd, kubelet, kube-proxy). `make test-cluster` (part of `make
// test`) brings the node up, builds and loads the image, runs these tests with
// NODE_KUBECONFIG and KUBEBUILDER_ASSETS set, and takes the node down.
//
// The tests share one installation and run one after the other: they are about
// the two pods of one Deployment.
package cluster
