package v1alpha1

import (
	"strings"
	"testing"
)

// TestNamesArePinned pins names already published: a change here renames
// every stored resource and moves every registered webhook.
func TestNamesArePinned(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"resource", ResourceName("shop", "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="), "shop-bbca0f6f13c93a1715aa"},
		{"long channel cut to 40, trailing dash dropped", ResourceName(strings.Repeat("a", 39)+"-b", "wamid.1"),
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-79552f20a38c6bbbfedb"},
		{"scoped", ChannelScopedName("shop", "-refused-", "abc"), "shop-refused-994f14bbc67b683adae1"},
		{"webhook path", WebhookPath([]byte("a-long-random-webhook-token"), "shop-ns", "shop"),
			"/webhooks/f42d95b38d8612aa727c74a18c9a6994cc75159ea1ee09732e5211f255d6bd90"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestNamesSeparateTheirParts(t *testing.T) {
	if ResourceName("shop", "a") == ResourceName("shop", "b") || ResourceName("shop", "a") == ResourceName("shop2", "a") {
		t.Error("different channels or messages share a name")
	}
	if WebhookPath([]byte("t"), "ab", "c") == WebhookPath([]byte("t"), "a", "bc") {
		t.Error("namespace and name run together in the webhook path")
	}
	if WebhookPath([]byte("t1"), "ns", "c") == WebhookPath([]byte("t2"), "ns", "c") {
		t.Error("the token does not change the webhook path")
	}
}
