package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// Archive is the system of record finished resources must reach before
// retention deletes them (internal/archive).
type Archive interface {
	// Archived tells whether the archive holds obj in its current version.
	Archived(ctx context.Context, obj client.Object) (bool, error)
}

// defaultArchiveRecheck is how often a resource whose retention is over asks
// the archive again while it waits for it.
const defaultArchiveRecheck = 30 * time.Second

// Retention is what the order and inquiry reconcilers need to delete finished
// resources: the archive, when there is one.
type Retention struct {
	// Archive is nil without an archive: then only a channel's explicit
	// retention deletes anything.
	Archive Archive
	// ArchiveRecheck is how often a resource waiting for the archive asks
	// again; 30s when zero.
	ArchiveRecheck time.Duration
}

// period says how long a resource finished at finishedAt is still kept, and
// whether its time is up. Unfinished resources, and finished ones nothing
// deletes, are kept (0, false).
func (r Retention) period(finishedAt *metav1.Time, ch *commercev1alpha1.WhatsAppChannel, now time.Time) (time.Duration, bool) {
	return retention(finishedAt, ch, now, r.Archive != nil)
}

// retention is period's decision, a pure function of values.
func retention(finishedAt *metav1.Time, ch *commercev1alpha1.WhatsAppChannel, now time.Time, archiving bool) (time.Duration, bool) {
	if finishedAt == nil {
		return 0, false
	}
	period, deletes := ch.RetentionPeriod(archiving)
	if !deletes {
		return 0, false
	}
	left := finishedAt.Add(period).Sub(now)
	return left, left <= 0
}

// withRetention makes sure the resource is looked at again when its retention ends.
func withRetention(res ctrl.Result, keep time.Duration) ctrl.Result {
	if keep > 0 && (res.RequeueAfter == 0 || keep < res.RequeueAfter) {
		res.RequeueAfter = keep
	}
	return res
}

// retire is the retention phase of a resource whose retention is over: it is
// deleted when the archive, if there is one, holds its current version.
// Otherwise retire returns the Archived condition to record and when to ask
// again, and the pass goes on.
func (r Retention) retire(ctx context.Context, c client.Client, rec events.EventRecorder, obj client.Object) (*metav1.Condition, ctrl.Result, error) {
	if r.Archive != nil {
		archived, err := r.Archive.Archived(ctx, obj)
		if !archived {
			recheck := r.ArchiveRecheck
			if recheck <= 0 {
				recheck = defaultArchiveRecheck
			}
			cond := archivePending(err)
			return &cond, ctrl.Result{RequeueAfter: recheck}, nil
		}
	}
	return nil, ctrl.Result{}, deleteExpired(ctx, c, rec, obj)
}

// archivePending is the Archived condition of a resource that retention
// keeps for the archive; err is why the archive could not be asked.
func archivePending(err error) metav1.Condition {
	const kept = "kept past its retention until the archive holds its final version"
	if err != nil {
		return metav1.Condition{Type: commercev1alpha1.ConditionArchived, Status: metav1.ConditionFalse,
			Reason: commercev1alpha1.ReasonArchiveUnavailable, Message: kept + ": " + err.Error()}
	}
	return metav1.Condition{Type: commercev1alpha1.ConditionArchived, Status: metav1.ConditionFalse,
		Reason: commercev1alpha1.ReasonArchivePending, Message: kept}
}

// deleteExpired deletes a finished resource whose retention period is over, so
// etcd does not grow without bound. The resourceVersion precondition makes
// sure the version deleted is the one the archive was asked about.
func deleteExpired(ctx context.Context, c client.Client, rec events.EventRecorder, obj client.Object) error {
	pre := client.Preconditions{UID: ptr.To(obj.GetUID()), ResourceVersion: ptr.To(obj.GetResourceVersion())}
	if err := c.Delete(ctx, obj, pre); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting after retention: %w", err)
	}
	rec.Eventf(obj, nil, corev1.EventTypeNormal, commercev1alpha1.ReasonRetentionExpired, "Delete", "deleted: finished longer ago than the channel's retention period")
	return nil
}

// recordArchivePending emits a Warning when retention starts waiting for the
// archive, or the reason it waits changes: one event per episode.
func recordArchivePending(rec events.EventRecorder, obj client.Object, before []metav1.Condition, now *metav1.Condition) {
	if now == nil {
		return
	}
	if old := meta.FindStatusCondition(before, commercev1alpha1.ConditionArchived); old != nil && old.Reason == now.Reason {
		return
	}
	rec.Eventf(obj, nil, corev1.EventTypeWarning, now.Reason, "Retain", "%s", now.Message)
}
