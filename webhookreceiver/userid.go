package webhookreceiver

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// applyUserIDChange records a customer's new business-scoped user id in
// status.customerUserID of the channel's orders and inquiries that may still
// message that customer (orders not finished, inquiries Open), so later
// messages go to the new id. Finished ones keep what they had: nothing more
// is sent about them.
func (r *Receiver) applyUserIDChange(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, c *payload.UserIDChange) (string, error) {
	match := []client.ListOption{client.InNamespace(ch.Namespace), client.MatchingFields{index.CustomerUserID: c.Previous}}
	var orders commercev1alpha1.WhatsAppOrderList
	if err := r.opts.Client.List(ctx, &orders, match...); err != nil {
		return "", fmt.Errorf("looking up the orders of user %s: %w", c.Previous, err)
	}
	var inquiries commercev1alpha1.ProductInquiryList
	if err := r.opts.Client.List(ctx, &inquiries, match...); err != nil {
		return "", fmt.Errorf("looking up the inquiries of user %s: %w", c.Previous, err)
	}
	ordersChanged, err := recordUserID(ctx, r, ch, c, ptrs(orders.Items), func(o *commercev1alpha1.WhatsAppOrder) *string {
		if o.Status.FinishedAt != nil {
			return nil
		}
		return &o.Status.CustomerUserID
	})
	if err != nil {
		return "", err
	}
	inquiriesChanged, err := recordUserID(ctx, r, ch, c, ptrs(inquiries.Items), func(q *commercev1alpha1.ProductInquiry) *string {
		if q.Status.FinishedAt != nil || (q.Status.Phase != "" && q.Status.Phase != commercev1alpha1.InquiryOpen) {
			return nil
		}
		return &q.Status.CustomerUserID
	})
	if err != nil {
		return "", err
	}
	if !ordersChanged && !inquiriesChanged {
		return OutcomeUnchanged, nil
	}
	return OutcomeUpdated, nil
}

// recordUserID sets the user id field that field finds on each of objs of the
// channel; field gives nil for an object that will not message the customer
// again.
func recordUserID[T messageSender](ctx context.Context, r *Receiver, ch *commercev1alpha1.WhatsAppChannel, c *payload.UserIDChange, objs []T, field func(T) *string) (bool, error) {
	changed := false
	for _, o := range objs {
		if o.ChannelName() != ch.Name || field(o) == nil {
			continue
		}
		written, err := statuswrite.Write(ctx, r.opts.Client, r.opts.APIReader, o, func(o T) {
			if f := field(o); f != nil {
				*f = c.Current
			}
		})
		if err != nil {
			return changed, fmt.Errorf("recording the new user id of %s: %w", o.GetName(), err)
		}
		changed = changed || written
	}
	return changed, nil
}

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
