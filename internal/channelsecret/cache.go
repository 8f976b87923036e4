package channelsecret

import (
	"context"
	"fmt"
	"sync"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// Cache keeps each channel's secrets for a while, so that a webhook request or
// a message to a customer does not cost a Secret read, while a rotated Secret
// is picked up within the caller's maxAge (and at once when the caller asks
// with maxAge zero, after a signature mismatch or a refused access token).
type Cache struct {
	reader client.Reader

	mu      sync.Mutex
	entries map[client.ObjectKey]cached
}

type cached struct {
	secretName string
	vals       Values
	fetched    time.Time
}

// NewCache returns a Cache reading Secrets through reader.
func NewCache(reader client.Reader) *Cache {
	return &Cache{reader: reader, entries: map[client.ObjectKey]cached{}}
}

// ForgetDeleted drops a channel's values as soon as the informers see the
// channel deleted, so that the tokens of a channel that is gone do not stay in
// the operator's memory (nothing would ever read or replace them).
func (c *Cache) ForgetDeleted(ctx context.Context, informers ctrlcache.Informers) error {
	inf, err := informers.GetInformer(ctx, &commercev1alpha1.WhatsAppChannel{})
	if err != nil {
		return fmt.Errorf("watching channels to forget the secrets of deleted ones: %w", err)
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if o, ok := obj.(client.Object); ok {
			c.forget(client.ObjectKeyFromObject(o))
		}
	}})
	return err
}

func (c *Cache) forget(key client.ObjectKey) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

// Get returns the channel's secrets and when they were read, reading the
// Secret (see Load) when the cached copy is older than maxAge or names another
// Secret. A Secret that cannot be used is not cached, and the values read
// before are dropped.
func (c *Cache) Get(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, maxAge time.Duration) (Values, time.Time, error) {
	key := client.ObjectKeyFromObject(ch)
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && e.secretName == ch.Spec.SecretRef.Name && time.Since(e.fetched) < maxAge {
		return e.vals, e.fetched, nil
	}
	vals, err := Load(ctx, c.reader, ch)
	if err != nil {
		// What was read before is no longer what the Secret holds (or the
		// Secret is gone): keep no copy of it.
		c.forget(key)
		return Values{}, time.Time{}, err
	}
	e = cached{secretName: ch.Spec.SecretRef.Name, vals: vals, fetched: time.Now()}
	c.mu.Lock()
	c.entries[key] = e
	c.mu.Unlock()
	return vals, e.fetched, nil
}
