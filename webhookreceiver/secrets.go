package webhookreceiver

import (
	"context"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
)

// secretCache keeps each channel's secrets for a while, so a request does not
// cost a Secret read, while a rotated Secret is picked up within
// Options.SecretResyncPeriod (and at once on a signature mismatch, see
// Receiver.verify).
type secretCache struct {
	reader client.Reader

	mu      sync.Mutex
	entries map[client.ObjectKey]cachedSecret
}

type cachedSecret struct {
	secretName string
	vals       channelsecret.Values
	fetched    time.Time
}

func newSecretCache(reader client.Reader) *secretCache {
	return &secretCache{reader: reader, entries: map[client.ObjectKey]cachedSecret{}}
}

// get returns the channel's secrets and when they were read, reading the
// Secret when the cached copy is older than maxAge or names another Secret.
func (c *secretCache) get(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, maxAge time.Duration) (channelsecret.Values, time.Time, error) {
	key := client.ObjectKeyFromObject(ch)
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && e.secretName == ch.Spec.SecretRef.Name && time.Since(e.fetched) < maxAge {
		return e.vals, e.fetched, nil
	}
	vals, err := channelsecret.Load(ctx, c.reader, ch)
	if err != nil {
		return vals, time.Time{}, err
	}
	e = cachedSecret{secretName: ch.Spec.SecretRef.Name, vals: vals, fetched: time.Now()}
	c.mu.Lock()
	c.entries[key] = e
	c.mu.Unlock()
	return vals, e.fetched, nil
}
