package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/archive"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/pgtest"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// The retention rule with an archive on a real PostgreSQL: a finished
// resource is deleted at the end of its retention only once the archive holds
// its final version.

func newArchive(t *testing.T, dbURL string) *archive.Archive {
	t.Helper()
	a, err := archive.New(dbURL, archive.Options{Scheme: env.Scheme, Log: ctrl.Log.WithName("archive"),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, WriteTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func hourRetention(s *commercev1alpha1.WhatsAppChannelSpec) {
	s.Retention = &metav1.Duration{Duration: time.Hour}
}

// finish cancels an order and waits until the controller has recorded it finished.
func (w *world) finish(o *commercev1alpha1.WhatsAppOrder) {
	w.t.Helper()
	w.setState(o, commercev1alpha1.OrderCancelled)
	w.waitOrder(o, "the order finished", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.FinishedAt != nil })
}

// archivedPhase is the phase the archive holds for o, and whether it saw o deleted.
func archivedPhase(t *testing.T, dbURL string, o client.Object) (phase string, deleted bool) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var deletedAt *time.Time
	err = conn.QueryRow(ctx, "SELECT coalesce(phase, ''), deleted_at FROM whatsapp_commerce.orders WHERE uid = $1", string(o.GetUID())).Scan(&phase, &deletedAt)
	if err == pgx.ErrNoRows {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return phase, deletedAt != nil
}

func (w *world) gone(o client.Object) bool {
	err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o.DeepCopyObject().(client.Object))
	return err != nil && client.IgnoreNotFound(err) == nil
}

func archivedCondition(o *commercev1alpha1.WhatsAppOrder) *metav1.Condition {
	return meta.FindStatusCondition(o.Status.Conditions, commercev1alpha1.ConditionArchived)
}

func TestRetentionDeletesWhatTheArchiveHolds(t *testing.T) {
	db := pgtest.Database(t, pgServer)
	w := openWorld(t, commercev1alpha1.APICloud, newArchive(t, db), hourRetention)
	done, open := w.placeOrder("wamid.done"), w.placeOrder("wamid.open")
	w.finish(done)

	w.clock.SetTime(w.clock.Now().Add(2 * time.Hour))
	w.touch(done)
	w.touch(open)
	w.eventually("the finished order deleted", func() bool { return w.gone(done) })
	w.eventually("the archive to record the deletion", func() bool {
		phase, deleted := archivedPhase(t, db, done)
		return phase == "Cancelled" && deleted
	})
	if w.gone(open) {
		t.Error("an unfinished order was deleted")
	}
	if phase, deleted := archivedPhase(t, db, open); phase != "Pending" || deleted {
		t.Errorf("the open order is archived as %q (deleted %v), want Pending", phase, deleted)
	}
}

func TestWithoutAnArchiveOnlyAnExplicitRetentionDeletes(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	o := w.placeOrder("wamid.kept")
	w.finish(o)
	w.clock.SetTime(w.clock.Now().Add(10 * 365 * 24 * time.Hour))
	w.touch(o)
	testenv.Consistently(t, time.Second, "the order kept: no archive and no retention on the channel", func() bool { return !w.gone(o) })

	// The same order, the same pass, once the channel asks for deletion.
	patch := []byte(`{"spec":{"retention":"1h"}}`)
	must(t, env.Client.Patch(ctx, w.channel, client.RawPatch("application/merge-patch+json", patch)))
	// Touched until deleted: the first touch may beat the channel's change to
	// the operator's cache.
	w.eventually("the order deleted once the channel sets retention", func() bool {
		if w.gone(o) {
			return true
		}
		_ = env.Client.Patch(ctx, o, client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"test/touched":"`+time.Now().Format(time.RFC3339Nano)+`"}}}`)))
		return false
	})
}

func TestNothingIsDeletedWhilePostgreSQLIsDown(t *testing.T) {
	server, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Destroy() })
	db := pgtest.Database(t, server.URL)
	a := newArchive(t, db)
	w := openWorld(t, commercev1alpha1.APICloud, a, hourRetention)
	o := w.placeOrder("wamid.down")
	w.finish(o)
	w.eventually("the archive to catch up", func() bool { return a.Backlog() == 0 })
	must(t, server.Stop())

	w.clock.SetTime(w.clock.Now().Add(2 * time.Hour))
	w.touch(o)
	w.waitOrder(o, "Archived=False while PostgreSQL is down", func(o *commercev1alpha1.WhatsAppOrder) bool {
		c := archivedCondition(o)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == commercev1alpha1.ReasonArchiveUnavailable
	})
	w.eventually("a Warning event", func() bool { return w.hasEvent(o, corev1.EventTypeWarning, commercev1alpha1.ReasonArchiveUnavailable) })
	testenv.Consistently(t, time.Second, "the order kept while its final version is not archived", func() bool { return !w.gone(o) })
	if a.Backlog() == 0 {
		t.Error("no backlog while PostgreSQL is down and the order changed")
	}

	must(t, server.Resume())
	w.eventually("the order deleted once the archive caught up", func() bool { return w.gone(o) })
	w.eventually("the archive to hold the last version and the deletion", func() bool {
		phase, deleted := archivedPhase(t, db, o)
		return phase == "Cancelled" && deleted
	})
	if a.Backlog() != 0 {
		t.Errorf("backlog %d after catching up", a.Backlog())
	}
}

func TestAWrongArchivePasswordIsAClearCondition(t *testing.T) {
	db := pgtest.Database(t, pgServer)
	at, colon := strings.Index(db, "@"), strings.Index(db, "archive:")+len("archive:")
	w := openWorld(t, commercev1alpha1.APICloud, newArchive(t, db[:colon]+"wrong-password"+db[at:]), hourRetention)
	o := w.placeOrder("wamid.password")
	w.finish(o)
	w.clock.SetTime(w.clock.Now().Add(2 * time.Hour))
	w.touch(o)
	w.waitOrder(o, "Archived=False saying the password was refused", func(o *commercev1alpha1.WhatsAppOrder) bool {
		c := archivedCondition(o)
		return c != nil && c.Reason == commercev1alpha1.ReasonArchiveUnavailable && strings.Contains(c.Message, "password authentication failed")
	})
	if c := archivedCondition(o); strings.Contains(c.Message, "wrong-password") {
		t.Errorf("the condition shows the password: %s", c.Message)
	}
	// The operator keeps working: a new order is still received and reconciled.
	next := w.placeOrder("wamid.after")
	w.waitOrder(next, "the next order reconciled", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionReady)
	})
	if w.gone(o) {
		t.Error("the order was deleted although the archive never held it")
	}
}

// An order deleted while no operator ran gets deleted_at at the next start,
// with the last version the archive held; an order still in the cluster
// keeps its row as it was.
func TestAnOrderDeletedWhileNoOperatorRanIsRecordedDeleted(t *testing.T) {
	db := pgtest.Database(t, pgServer)
	a := newArchive(t, db)
	w := openWorld(t, commercev1alpha1.APICloud, a)
	gone, kept := w.placeOrder("wamid.gone"), w.placeOrder("wamid.kept")
	w.finish(gone)
	w.eventually("the archive to hold both orders as they are", func() bool {
		for _, o := range []*commercev1alpha1.WhatsAppOrder{gone, kept} {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return false
			}
			if ok, err := a.Archived(ctx, o); !ok || err != nil {
				return false
			}
		}
		return true
	})

	w.stop()
	must(t, env.Client.Delete(ctx, gone))
	w.start()
	w.eventually("the deletion recorded", func() bool {
		phase, deleted := archivedPhase(t, db, gone)
		return phase == "Cancelled" && deleted
	})
	// Both rows are on the sweep's first page, checked before it marks any.
	if phase, deleted := archivedPhase(t, db, kept); phase != "Pending" || deleted {
		t.Errorf("the live order is archived as %q (deleted %v), want Pending", phase, deleted)
	}
}
