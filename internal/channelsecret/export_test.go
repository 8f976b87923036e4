package channelsecret

import "sigs.k8s.io/controller-runtime/pkg/client"

// Holds tells whether the cache keeps values for the channel.
func (c *Cache) Holds(key client.ObjectKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[key]
	return ok
}
