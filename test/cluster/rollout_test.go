//go:build cluster

package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// TestRollout: the Deployment rolls out from the local image, both replicas are
// Ready without restarting, and exactly one of them holds the leader lease.
func TestRollout(t *testing.T) {
	installed(t)
	ctx := context.Background()

	var dep appsv1.Deployment
	if err := kube.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: deploymentName}, &dep); err != nil {
		t.Fatal(err)
	}
	if dep.Status.ReadyReplicas != 2 || dep.Status.UpdatedReplicas != 2 || *dep.Spec.Replicas != 2 {
		t.Fatalf("deployment: %d replicas, %d updated, %d ready; want 2 of each", *dep.Spec.Replicas, dep.Status.UpdatedReplicas, dep.Status.ReadyReplicas)
	}
	pods := listPods(t)
	if len(pods) != 2 {
		t.Fatalf("%d pods, want 2", len(pods))
	}
	for _, p := range pods {
		if !podReady(p) {
			t.Errorf("pod %s is not Ready", p.Name)
		}
		cs := p.Status.ContainerStatuses[0]
		if cs.RestartCount != 0 {
			t.Errorf("pod %s restarted %d times", p.Name, cs.RestartCount)
		}
		if p.Spec.Containers[0].Image != localImage {
			t.Errorf("pod %s runs %s, want the local image %s", p.Name, p.Spec.Containers[0].Image, localImage)
		}
	}

	// controller-runtime names the holder "<hostname>_<uuid>", and a pod's hostname
	// is its name.
	holder := func() string {
		var lease coordinationv1.Lease
		if err := kube.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: leaseName}, &lease); err != nil || lease.Spec.HolderIdentity == nil {
			return ""
		}
		return *lease.Spec.HolderIdentity
	}
	testenv.Eventually(t, 30*time.Second, "a replica to take the lease", func() bool { return holder() != "" })
	var holders int
	for _, p := range pods {
		if strings.HasPrefix(holder(), p.Name+"_") {
			holders++
		}
	}
	if holders != 1 {
		t.Fatalf("lease held by %q: want exactly one of the pods %s and %s", holder(), pods[0].Name, pods[1].Name)
	}
}
