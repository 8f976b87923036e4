package archive_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/archive"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/pgtest"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// TestDeletionsWhileNoLeaderWatchedAreRecordedAtTheNextStart: resources
// archived by one leader and deleted while no leader ran get deleted_at from
// the next leader, in pages of two rows; live resources, rows already marked
// and rows of namespaces the new leader does not watch are left as they are.
func TestDeletionsWhileNoLeaderWatchedAreRecordedAtTheNextStart(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Database(t, serverURL)
	first, err := archive.New(db, archive.Options{Scheme: env.Scheme, Log: zap.New(zap.WriteTo(testWriter{t}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.Close)
	_, stop := runManager(t, first, nil)

	watched, other := env.Namespace(t), env.Namespace(t)
	newOrder := func(ns, name string) *commercev1alpha1.WhatsAppOrder {
		o := order(name, 0, "")
		o.ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: name, Labels: o.Labels}
		o.Status = commercev1alpha1.WhatsAppOrderStatus{}
		must(t, env.Client.Create(ctx, o))
		return o
	}
	live := []client.Object{newOrder(watched, "live-1"), newOrder(watched, "live-2"), newOrder(watched, "live-3")}
	gone := []client.Object{newOrder(watched, "gone-1"), newOrder(watched, "gone-2"), newOrder(watched, "renamed")}
	unwatched := newOrder(other, "elsewhere")
	seen := newOrder(watched, "seen")
	i := inquiry("gone-inquiry", 0)
	i.ObjectMeta = metav1.ObjectMeta{Namespace: watched, Name: "gone-inquiry"}
	i.Status = commercev1alpha1.ProductInquiryStatus{}
	must(t, env.Client.Create(ctx, i))
	gone = append(gone, i)
	waitArchived(t, first, append(append(append([]client.Object{}, live...), gone...), unwatched, seen)...)

	// A deletion the leader saw keeps the time it saw it.
	must(t, env.Client.Delete(ctx, seen))
	conn := connect(t, db)
	testenv.Eventually(t, 30*time.Second, "the seen deletion archived", func() bool {
		r, _ := readRow(t, conn, "orders", seen.UID)
		return r.deleted != nil
	})
	seenRow, _ := readRow(t, conn, "orders", seen.UID)

	// No leader while these go; one comes back under the same name.
	stop()
	for _, o := range append(append([]client.Object{}, gone...), unwatched) {
		must(t, env.Client.Delete(ctx, o))
	}
	newOrder(watched, "renamed")

	var logs syncBuffer
	reg := prometheus.NewRegistry()
	next, err := archive.New(db, archive.Options{Scheme: env.Scheme, BatchSize: 2, Registerer: reg, Log: zap.New(zap.WriteTo(&logs))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(next.Close)
	runManager(t, next, []string{watched})
	testenv.Eventually(t, 30*time.Second, "the sweep of both kinds to finish", func() bool {
		return strings.Count(logs.String(), `"done":true`) == 2
	})

	table := func(o client.Object) string {
		if _, ok := o.(*commercev1alpha1.ProductInquiry); ok {
			return "inquiries"
		}
		return "orders"
	}
	for _, o := range gone {
		if r, _ := readRow(t, conn, table(o), o.GetUID()); r.deleted == nil {
			t.Errorf("%s, deleted while no leader watched, has no deleted_at", o.GetName())
		}
	}
	for _, o := range append(live, unwatched) {
		if r, _ := readRow(t, conn, table(o), o.GetUID()); r.deleted != nil {
			t.Errorf("%s/%s was marked deleted (live, or in a namespace the leader does not watch)", o.GetNamespace(), o.GetName())
		}
	}
	if r, _ := readRow(t, conn, "orders", seen.UID); r.deleted == nil || !r.deleted.Equal(*seenRow.deleted) {
		t.Errorf("the deletion the first leader saw moved from %v to %v", seenRow.deleted, r.deleted)
	}
	if got := metric(t, reg, "whatsapp_archive_unseen_deletions_total"); got != float64(len(gone)) {
		t.Errorf("whatsapp_archive_unseen_deletions_total = %v, want %d", got, len(gone))
	}
	if !strings.Contains(logs.String(), "archive sweep progress") {
		t.Errorf("no progress logged:\n%s", logs.String())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
