package webhookreceiver

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// ResourceName is the name of the resource for a message of a channel. It is a
// pure function of the two, so every replica, and every redelivery, arrives at
// the same name and the API server's AlreadyExists does the deduplication. The
// channel name leads so that `kubectl get` groups by channel.
func ResourceName(channel, messageID string) string {
	return hashedName(channel, "-", messageID)
}

// hashedName is the channel's name (cut to 40 characters), infix, and a hash
// of the channel and key: valid, unique per key, and the same on every replica.
func hashedName(channel, infix, key string) string {
	sum := sha256.Sum256([]byte(channel + "\x00" + key))
	prefix := channel
	if len(prefix) > 40 {
		prefix = strings.TrimRight(prefix[:40], "-.")
	}
	return prefix + infix + hex.EncodeToString(sum[:])[:20]
}

// labels are the labels of a resource created for a customer's message.
func labels(channel string, customer commercev1alpha1.Customer) map[string]string {
	// The API server keeps channel names to what a label value can hold.
	l := map[string]string{commercev1alpha1.LabelChannel: channel}
	if customer.WaID != "" && len(validation.IsValidLabelValue(customer.WaID)) == 0 {
		l[commercev1alpha1.LabelCustomer] = customer.WaID
	}
	return l
}
