package archive_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/archive"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/pgtest"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// TestTheFeedArchivesEveryVersionTheAPIServerHolds runs the archive in a
// manager against a real API server: a created order, its status changes and
// its deletion all reach PostgreSQL.
func TestTheFeedArchivesEveryVersionTheAPIServerHolds(t *testing.T) {
	db := pgtest.Database(t, serverURL)
	a, err := archive.New(db, archive.Options{Scheme: env.Scheme, Log: ctrl.Log})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:  env.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddToManager(mgr, &commercev1alpha1.WhatsAppOrder{}, &commercev1alpha1.ProductInquiry{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
		a.Close()
	})

	ns := env.Namespace(t)
	o := order("order-1", 0, "")
	o.ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: "order-1", Labels: o.Labels}
	o.Status = commercev1alpha1.WhatsAppOrderStatus{}
	if err := env.Client.Create(ctx, o); err != nil {
		t.Fatalf("creating the order: %v", err)
	}
	i := inquiry("inquiry-1", 0)
	i.ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: "inquiry-1"}
	i.Status = commercev1alpha1.ProductInquiryStatus{}
	if err := env.Client.Create(ctx, i); err != nil {
		t.Fatalf("creating the inquiry: %v", err)
	}
	waitArchived(t, a, o, i)

	o.Status.Phase, o.Status.Total, o.Status.Currency, o.Status.ItemCount = "Pending", "45.98", "EUR", 3
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatalf("updating the order's status: %v", err)
	}
	waitArchived(t, a, o)
	conn := connect(t, db)
	r, _ := readRow(t, conn, "orders", o.UID)
	var got commercev1alpha1.WhatsAppOrder
	if err := json.Unmarshal(r.document, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Total != "45.98" || got.ResourceVersion != o.ResourceVersion || got.Spec.Items[0].ItemPrice != "7.99" || r.phase != "Pending" {
		t.Errorf("archived order = %+v; want the status update at version %s", got, o.ResourceVersion)
	}

	if err := env.Client.Delete(ctx, o); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the deletion to be archived", func() bool {
		r, _ := readRow(t, conn, "orders", o.UID)
		return r.deleted != nil
	})
	if r, _ := readRow(t, conn, "orders", o.UID); r.phase != "Pending" {
		t.Errorf("the deleted order's row lost its document: %+v", r)
	}
}
