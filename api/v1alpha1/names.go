package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// The names below are part of the contract: a resource's name, a webhook
// path, once published, must come out the same from every replica and every
// release, or a redelivered message would be stored twice and Meta would call
// a path nobody serves. names_test.go pins them.

// ResourceName is the name of the resource created for a message of a
// channel. It is a pure function of the two, so every replica, and every
// redelivery, arrives at the same name and the API server's AlreadyExists does
// the deduplication. The channel name leads so that `kubectl get` groups by
// channel.
func ResourceName(channel, messageID string) string {
	return ChannelScopedName(channel, "-", messageID)
}

// ChannelScopedName is the channel's name (cut to 40 characters), infix, and a
// hash of the channel and key: a valid object name, unique per key, and the
// same on every replica.
func ChannelScopedName(channel, infix, key string) string {
	sum := sha256.Sum256([]byte(channel + "\x00" + key))
	prefix := channel
	if len(prefix) > 40 {
		prefix = strings.TrimRight(prefix[:40], "-.")
	}
	return prefix + infix + hex.EncodeToString(sum[:])[:20]
}

// WebhookPathPrefix starts every channel's webhook path.
const WebhookPathPrefix = "/webhooks/"

// WebhookPath is the path a channel receives webhooks on (its
// status.webhookPath). It hashes the secret webhook token with the channel's
// namespace and name, so the path cannot be guessed without the token and no
// two channels share one.
func WebhookPath(token []byte, namespace, name string) string {
	h := sha256.New()
	h.Write(token)
	h.Write([]byte{0})
	h.Write([]byte(namespace))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return WebhookPathPrefix + hex.EncodeToString(h.Sum(nil))
}
