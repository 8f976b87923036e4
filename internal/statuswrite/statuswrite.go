// Package statuswrite is the one way the operator writes the status of its
// resources: the reconcilers' single write at the end of a reconcile and the
// receiver's delivery-status updates go through Write, so both sides of every
// conflict follow the same rule.
package statuswrite

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Write makes mutate's change to obj's status in one update of the status
// subresource, and reports whether anything was written.
//
// Conflict strategy, the only one in the operator: write optimistically, and on
// a conflict re-read and re-apply. The first attempt applies mutate to obj as
// the caller read it. When the API server answers Conflict (the receiver and a
// reconciler wrote the same status at once), obj is read again through reader,
// which must read from the API server and not the cache (the cache may be as
// stale as the copy that conflicted), and mutate is applied to that fresh copy;
// retry.DefaultRetry bounds the attempts. Neither writer's change is lost, because
// mutate is a change to whatever status it is handed, never a replacement by a
// copy taken earlier. For the same reason mutate takes every value it stamps
// (observedGeneration above all) from what its caller read and decided, never
// from the object it is handed, whose generation may be newer than the one the
// caller reconciled. An attempt that changes nothing is not sent.
//
// On return obj holds what was written (or, when nothing was, what was read last).
func Write[T client.Object](ctx context.Context, c client.Client, reader client.Reader, obj T, mutate func(T)) (bool, error) {
	written, first := false, true
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			if err := reader.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return fmt.Errorf("re-reading after a conflict: %w", err)
			}
		}
		first = false
		before := obj.DeepCopyObject()
		mutate(obj)
		if equality.Semantic.DeepEqual(before, obj) {
			written = false
			return nil
		}
		if err := c.Status().Update(ctx, obj); err != nil {
			return err
		}
		written = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("updating the status of %s: %w", obj.GetName(), err)
	}
	return written, nil
}
