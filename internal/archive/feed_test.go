package archive_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/archive"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/pgtest"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// runManager runs a in a manager of its own whose caches watch namespaces
// (all when empty), as the operator's leader does, until the test ends; the
// returned stop ends it earlier. informers is the manager's cache.
func runManager(t *testing.T, a *archive.Archive, namespaces []string) (informers client.Reader, stop func()) {
	t.Helper()
	cacheOpts := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	for _, ns := range namespaces {
		if cacheOpts.DefaultNamespaces == nil {
			cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		}
		cacheOpts.DefaultNamespaces[ns] = cache.Config{}
	}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}, Cache: cacheOpts})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddToManager(mgr, namespaces, &commercev1alpha1.WhatsAppOrder{}, &commercev1alpha1.ProductInquiry{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return mgr.GetCache(), stop
}

// TestTheFeedArchivesEveryVersionTheAPIServerHolds runs the archive in a
// manager against a real API server: a created order, its status changes and
// its deletion all reach PostgreSQL.
func TestTheFeedArchivesEveryVersionTheAPIServerHolds(t *testing.T) {
	db := pgtest.Database(t, serverURL)
	a, err := archive.New(db, archive.Options{Scheme: env.Scheme, Log: ctrl.Log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	runManager(t, a, nil)

	ctx := context.Background()
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

// TestAStoppingLeaderWritesTheLastVersionItsInformersSaw: with a linger far
// longer than the test, nothing is written while the manager runs; the
// versions its informers delivered, the deletion among them, are written
// when it stops.
func TestAStoppingLeaderWritesTheLastVersionItsInformersSaw(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Database(t, serverURL)
	a, err := archive.New(db, archive.Options{Scheme: env.Scheme, Linger: time.Hour, Log: zap.New(zap.WriteTo(testWriter{t}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	ns := env.Namespace(t)
	informers, stop := runManager(t, a, []string{ns})

	kept, gone := order("kept", 0, ""), order("gone", 0, "")
	for _, o := range []*commercev1alpha1.WhatsAppOrder{kept, gone} {
		o.ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: o.Name, Labels: o.Labels}
		o.Status = commercev1alpha1.WhatsAppOrderStatus{}
		must(t, env.Client.Create(ctx, o))
	}
	testenv.Eventually(t, 30*time.Second, "the feed to see both orders", func() bool { return a.Backlog() == 2 })
	kept.Status.Phase = "Pending"
	must(t, env.Client.Status().Update(ctx, kept))
	must(t, env.Client.Delete(ctx, gone))
	testenv.Eventually(t, 30*time.Second, "the informers to see the status change and the deletion", func() bool {
		var seen commercev1alpha1.WhatsAppOrder
		return informers.Get(ctx, client.ObjectKeyFromObject(kept), &seen) == nil && seen.ResourceVersion == kept.ResourceVersion &&
			apierrors.IsNotFound(informers.Get(ctx, client.ObjectKeyFromObject(gone), &seen))
	})
	stop()

	conn := connect(t, db)
	if r, ok := readRow(t, conn, "orders", kept.UID); !ok || r.phase != "Pending" || r.version != mustVersion(t, kept) {
		t.Errorf("kept order archived as %+v (found %v); want its status change at %s", r, ok, kept.ResourceVersion)
	}
	if r, ok := readRow(t, conn, "orders", gone.UID); !ok || r.deleted == nil {
		t.Errorf("deleted order archived as %+v (found %v); want its deletion", r, ok)
	}
}

func mustVersion(t *testing.T, o client.Object) int64 {
	t.Helper()
	v, err := strconv.ParseInt(o.GetResourceVersion(), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
