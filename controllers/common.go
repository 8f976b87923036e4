package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// getChannel returns the channel an order or inquiry arrived on, or nil if it
// is gone.
func getChannel(ctx context.Context, c client.Reader, namespace, name string) (*commercev1alpha1.WhatsAppChannel, error) {
	var ch commercev1alpha1.WhatsAppChannel
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &ch); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("getting channel %s: %w", name, err)
	}
	return &ch, nil
}

// retention says how long a resource finished at finishedAt is still kept, and
// whether its time is up. Unfinished resources are kept (0, false).
func retention(finishedAt *metav1.Time, ch *commercev1alpha1.WhatsAppChannel, now time.Time) (time.Duration, bool) {
	if finishedAt == nil {
		return 0, false
	}
	period := commercev1alpha1.DefaultRetention
	if ch != nil {
		period = ch.RetentionPeriod()
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

// deleteExpired deletes a finished resource whose retention period is over, so
// etcd does not grow without bound.
func deleteExpired(ctx context.Context, c client.Client, rec events.EventRecorder, obj client.Object) error {
	if err := c.Delete(ctx, obj, client.Preconditions{UID: ptr.To(obj.GetUID())}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting after retention: %w", err)
	}
	rec.Eventf(obj, nil, corev1.EventTypeNormal, "RetentionExpired", "Delete", "deleted: finished longer ago than the channel's retention period")
	return nil
}

// writeStatus applies mutate to obj's status and writes it in one update. On a
// conflict (the receiver records delivery statuses on the same objects) it
// re-reads obj from the API server and applies mutate again, so what this
// reconcile decided, a sent notification above all, is never dropped.
func writeStatus[T client.Object](ctx context.Context, c client.Client, reader client.Reader, obj T, mutate func(T)) error {
	first := true
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			if err := reader.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
		}
		first = false
		before := obj.DeepCopyObject()
		mutate(obj)
		if equality.Semantic.DeepEqual(before, obj) {
			return nil
		}
		if err := c.Status().Update(ctx, obj); err != nil {
			return fmt.Errorf("updating status: %w", err)
		}
		return nil
	})
}
