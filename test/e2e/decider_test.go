package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// TestDeciderChangesOnlyTheDecision installs config/default and, as a user
// bound to the decider role only, tries what update and patch would allow
// beyond the decision: config/policy's admission policy refuses each, while the
// decision itself, the operator and an editor are not affected.
func TestDeciderChangesOnlyTheDecision(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	c.mustKubectl(t, nil, "apply", "--server-side", "-k", "config/default")
	c.namespace(t, "shop")
	c.mustKubectl(t, nil, "create", "rolebinding", "order-deciders", "-n", "shop",
		"--clusterrole="+namePrefix+"whatsapporder-decider-role", "--user=alice")
	c.mustKubectl(t, nil, "create", "rolebinding", "order-editors", "-n", "shop",
		"--clusterrole="+namePrefix+"whatsapporder-editor-role", "--user=bob")
	c.mustKubectl(t, nil, "apply", "--server-side", "-n", "shop", "-f", "config/samples/commerce_v1alpha1_whatsapporder.yaml")

	as := func(user string) client.Client {
		cfg := rest.CopyConfig(c.env.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
		cl, err := client.New(cfg, client.Options{Scheme: c.env.Scheme})
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	alice, bob, operator := as("alice"), as("bob"), as(managerUser)
	order := client.ObjectKey{Namespace: "shop", Name: "sample-order"}
	patch := func(cl client.Client, p string, opts ...client.PatchOption) error {
		o := &commercev1alpha1.WhatsAppOrder{}
		o.Namespace, o.Name = order.Namespace, order.Name
		return cl.Patch(context.Background(), o, client.RawPatch(types.MergePatchType, []byte(p)), opts...)
	}
	get := func() *commercev1alpha1.WhatsAppOrder {
		t.Helper()
		o := &commercev1alpha1.WhatsAppOrder{}
		if err := c.env.Client.Get(context.Background(), order, o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	refused := func(err error, what string) bool {
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "a decider may change only spec.state, spec.payment and spec.recordedPayment") &&
			strings.Contains(err.Error(), what)
	}

	// The API server picks a new policy up from its informer a moment after it
	// is created; ask with dry runs (admission sees them too) until it does.
	const labels = `{"metadata":{"labels":{"commerce.wa.dev/channel":"elsewhere"}}}`
	testenv.Eventually(t, time.Minute, "the decider policy to be enforced", func() bool {
		return refused(patch(alice, labels, client.DryRunAll), "labels")
	})

	for _, tc := range []struct{ name, patch, refusal string }{
		{"labels", labels, "not its labels"},
		{"a new label", `{"metadata":{"labels":{"extra":"x"}}}`, "not its labels"},
		{"annotations", `{"metadata":{"annotations":{"note":"x"}}}`, "not its annotations"},
		{"finalizers", `{"metadata":{"finalizers":["example.com/keep"]}}`, "not its finalizers"},
		{"ownerReferences", `{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"gone","uid":"6c1b0c4e-8d7a-4b8e-9a57-0d5e0f8a6b11"}]}}`, "not its ownerReferences"},
		{"the decision with a label", `{"spec":{"state":"Accepted"},"metadata":{"labels":{"extra":"x"}}}`, "not its labels"},
	} {
		t.Run("decider sets "+tc.name, func(t *testing.T) {
			err := patch(alice, tc.patch)
			if !refused(err, tc.refusal) {
				t.Fatalf("alice's patch %s: %v; want it forbidden, saying %q", tc.patch, err, tc.refusal)
			}
		})
	}
	if o := get(); o.Spec.State != commercev1alpha1.OrderPending || o.Labels["commerce.wa.dev/channel"] != "shop" || len(o.Finalizers) != 0 ||
		len(o.OwnerReferences) != 0 || len(o.Annotations) != 0 {
		t.Fatalf("after alice's refused patches the order is %+v, %+v; want it untouched", o.ObjectMeta, o.Spec)
	}

	t.Run("decider decides", func(t *testing.T) {
		if err := patch(alice, `{"spec":{"state":"Accepted"}}`); err != nil {
			t.Fatalf("alice's decision: %v", err)
		}
		// The typed client's update sends the whole object, as kubectl edit does.
		o := get()
		o.Spec.State = commercev1alpha1.OrderShipped
		if err := alice.Update(context.Background(), o); err != nil {
			t.Fatalf("alice's update of the decision: %v", err)
		}
		if got := get().Spec.State; got != commercev1alpha1.OrderShipped {
			t.Errorf("state after alice's decisions: %s, want Shipped", got)
		}
	})
	t.Run("operator", func(t *testing.T) {
		if err := patch(operator, `{"metadata":{"labels":{"commerce.wa.dev/product-message":"launch"}}}`); err != nil {
			t.Errorf("the operator's label: %v", err)
		}
	})
	t.Run("editor", func(t *testing.T) {
		if err := patch(bob, `{"metadata":{"labels":{"team":"north"},"annotations":{"note":"gift"},"finalizers":["example.com/keep"]}}`); err != nil {
			t.Errorf("bob's (an editor's) patch: %v", err)
		}
		if err := patch(bob, `{"metadata":{"finalizers":null}}`); err != nil {
			t.Errorf("bob's (an editor's) patch: %v", err)
		}
	})
	if o := get(); o.Labels["team"] != "north" || o.Labels["commerce.wa.dev/product-message"] != "launch" || o.Annotations["note"] != "gift" {
		t.Errorf("the operator's and the editor's changes did not hold: %+v", o.ObjectMeta)
	}
}
