package webhookreceiver

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// Field indexes on the informer cache, so a request finds its channel, and a
// status webhook its message, without reading from the API server.
const (
	IndexWebhookPath = "status.webhookPath"
	IndexSentMessage = "status.sentMessageIDs"
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
	if err := indexer.IndexField(ctx, &commercev1alpha1.WhatsAppOrder{}, IndexSentMessage, func(o client.Object) []string {
		var ids []string
		for _, n := range o.(*commercev1alpha1.WhatsAppOrder).Status.Notifications {
			ids = append(ids, n.MessageID)
		}
		return ids
	}); err != nil {
		return fmt.Errorf("indexing orders by sent message id: %w", err)
	}
	if err := indexer.IndexField(ctx, &commercev1alpha1.ProductInquiry{}, IndexSentMessage, func(o client.Object) []string {
		if r := o.(*commercev1alpha1.ProductInquiry).Status.Reply; r != nil && r.MessageID != "" {
			return []string{r.MessageID}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing inquiries by sent message id: %w", err)
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
	return nil
}
