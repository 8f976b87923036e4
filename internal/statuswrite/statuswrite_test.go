package statuswrite_test

import (
	"context"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env)) }

// Two writers of one status: ours read the channel at generation 1, then
// another wrote the spec (generation 2) and the status before our write.
func TestConflictReReadsAndKeepsBothWriters(t *testing.T) {
	ctx := context.Background()
	c := env.Client
	ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: env.Namespace(t), Name: "shop"}, Spec: commercev1alpha1.WhatsAppChannelSpec{
		PhoneNumberID: "1", SecretRef: commercev1alpha1.SecretReference{Name: "wa"}}}
	if err := c.Create(ctx, ch); err != nil {
		t.Fatal(err)
	}
	mine := ch.DeepCopy()
	generationRead := mine.Generation

	other := ch.DeepCopy()
	other.Spec.PhoneNumberID = "2"
	if err := c.Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	other.Status.WebhookPath = "/webhooks/other"
	if err := c.Status().Update(ctx, other); err != nil {
		t.Fatal(err)
	}

	calls := 0
	mutate := func(o *commercev1alpha1.WhatsAppChannel) {
		calls++
		o.Status.ObservedGeneration = generationRead
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: commercev1alpha1.ReasonChannelReady, ObservedGeneration: generationRead})
	}
	written, err := statuswrite.Write(ctx, c, c, mine, mutate)
	if err != nil || !written {
		t.Fatalf("Write: written %v, %v", written, err)
	}
	if calls != 2 {
		t.Fatalf("mutate ran %d times, want 2: once on the stale copy, once on the re-read one", calls)
	}
	var got commercev1alpha1.WhatsAppChannel
	if err := c.Get(ctx, client.ObjectKeyFromObject(ch), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.WebhookPath != "/webhooks/other" {
		t.Errorf("the other writer's status was lost: %+v", got.Status)
	}
	if !meta.IsStatusConditionTrue(got.Status.Conditions, commercev1alpha1.ConditionReady) {
		t.Errorf("our condition was lost: %+v", got.Status)
	}
	if got.Generation != 2 || got.Status.ObservedGeneration != 1 {
		t.Errorf("generation %d, observedGeneration %d: want 2 and 1, the generation our writer read", got.Generation, got.Status.ObservedGeneration)
	}

	// Nothing left to change: nothing is sent.
	rv := got.ResourceVersion
	written, err = statuswrite.Write(ctx, c, c, &got, mutate)
	if err != nil || written {
		t.Fatalf("a write that changes nothing: written %v, %v", written, err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(ch), &got); err != nil || got.ResourceVersion != rv {
		t.Errorf("resourceVersion moved from %s to %s on a write that changes nothing (%v)", rv, got.ResourceVersion, err)
	}
}
