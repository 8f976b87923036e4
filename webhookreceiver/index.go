package webhookreceiver

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// Field indexes on the informer cache, so a request finds its channel, a
// status webhook its message, and a user id change its customer's orders and
// inquiries, without reading from the API server.
const (
	IndexWebhookPath = "status.webhookPath"
	IndexSentMessage = "status.sentMessageIDs"
	// IndexCustomerUserID is the customer's current business-scoped user id:
	// status.customerUserID once WhatsApp reported a change, else
	// spec.customer.userID.
	IndexCustomerUserID = "status.customerUserID"
)

// SetupIndexes registers the indexes with the manager's cache. It runs on every
// replica: the receiver serves on all of them.
func SetupIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &commercev1alpha1.WhatsAppChannel{}, IndexWebhookPath, func(o client.Object) []string {
		if p := o.(*commercev1alpha1.WhatsAppChannel).Status.WebhookPath; p != "" {
			return []string{p}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing channels by webhook path: %w", err)
	}
	for _, kind := range []client.Object{&commercev1alpha1.WhatsAppOrder{}, &commercev1alpha1.ProductInquiry{}} {
		if err := indexer.IndexField(ctx, kind, IndexSentMessage, func(o client.Object) []string {
			return sentMessageIDs(o.(messageSender))
		}); err != nil {
			return fmt.Errorf("indexing %T by sent message id: %w", kind, err)
		}
	}
	if err := indexer.IndexField(ctx, &commercev1alpha1.ProductMessage{}, IndexSentMessage, func(o client.Object) []string {
		// A tracked message is found by spec.messageID before the controller
		// has copied it into status.
		pm := o.(*commercev1alpha1.ProductMessage)
		var ids []string
		for _, id := range []string{pm.Status.MessageID, pm.Spec.MessageID} {
			if id != "" && (len(ids) == 0 || ids[0] != id) {
				ids = append(ids, id)
			}
		}
		return ids
	}); err != nil {
		return fmt.Errorf("indexing product messages by sent message id: %w", err)
	}
	if err := indexer.IndexField(ctx, &commercev1alpha1.WhatsAppOrder{}, IndexCustomerUserID, func(o client.Object) []string {
		order := o.(*commercev1alpha1.WhatsAppOrder)
		return currentUserID(order.Spec.Customer, order.Status.CustomerUserID)
	}); err != nil {
		return fmt.Errorf("indexing orders by customer user id: %w", err)
	}
	if err := indexer.IndexField(ctx, &commercev1alpha1.WhatsAppOrder{}, IndexPaymentReference, PaymentReferenceIndex); err != nil {
		return fmt.Errorf("indexing orders by payment reference: %w", err)
	}
	if err := indexer.IndexField(ctx, &commercev1alpha1.ProductInquiry{}, IndexCustomerUserID, func(o client.Object) []string {
		q := o.(*commercev1alpha1.ProductInquiry)
		return currentUserID(q.Spec.Customer, q.Status.CustomerUserID)
	}); err != nil {
		return fmt.Errorf("indexing inquiries by customer user id: %w", err)
	}
	return nil
}

// sentMessageIDs are the ids of the messages o recorded; an intent, which
// has none yet, is found by its callback data instead.
func sentMessageIDs(o messageSender) []string {
	var ids []string
	for _, m := range o.SentMessages() {
		if m.MessageID != "" {
			ids = append(ids, m.MessageID)
		}
	}
	return ids
}

func currentUserID(c commercev1alpha1.Customer, reported string) []string {
	if reported != "" {
		return []string{reported}
	}
	if c.UserID != "" {
		return []string{c.UserID}
	}
	return nil
}
