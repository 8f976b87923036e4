package webhookreceiver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// Whoever learnt a channel's path, and only that, learns nothing more from the
// answers: until a request carries the channel's signature, no answer names
// the channel's namespace or name, whether the channel is Ready or not.
func TestUnauthenticatedAnswersDoNotNameTheChannel(t *testing.T) {
	ready := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	notReady := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	withoutAppSecret(t, notReady)
	order := sample(t, "cloud-order-multi-item.json")

	for _, tc := range []struct {
		name string
		ch   *commercev1alpha1.WhatsAppChannel
		send func(path string) response
		code int
	}{
		{"no signature", ready, func(path string) response { return post(t, path, order, "") }, http.StatusUnauthorized},
		{"signature with another secret", ready, func(path string) response { return post(t, path, order, "not-the-app-secret") }, http.StatusUnauthorized},
		{"wrong verify token", ready, func(path string) response {
			return do(t, http.MethodGet, path+"?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1", nil, nil)
		}, http.StatusForbidden},
		{"body over the limit", ready, func(path string) response {
			return do(t, http.MethodPost, path, make([]byte, webhookreceiver.MaxBodyBytes+1), nil)
		}, http.StatusRequestEntityTooLarge},
		{"body that does not arrive", ready, func(path string) response {
			code, took := uploadSlowly(http.DefaultClient, server.URL+path, 1<<10, nil)
			if took > 5*time.Second {
				t.Errorf("a body that does not arrive was answered after %s, want within 5s", took)
			}
			return response{code: code}
		}, http.StatusRequestTimeout},
		// The channel's Secret has no app secret: nobody can prove anything.
		{"signed order to a channel not Ready", notReady, func(path string) response { return post(t, path, order, appSecret) }, http.StatusServiceUnavailable},
		{"handshake with a channel not Ready", notReady, func(path string) response {
			return do(t, http.MethodGet, path+"?hub.mode=subscribe&hub.verify_token="+verifyToken+"&hub.challenge=1", nil, nil)
		}, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.send(tc.ch.Status.WebhookPath)
			if r.code != tc.code {
				t.Fatalf("answer %d %s, want %d", r.code, r.body, tc.code)
			}
			if strings.Contains(r.body, tc.ch.Namespace) || strings.Contains(r.body, tc.ch.Name) {
				t.Errorf("the answer %q names the channel %s/%s", r.body, tc.ch.Namespace, tc.ch.Name)
			}
		})
	}
}

// withoutAppSecret removes the app secret from ch's Secret, which makes a
// Cloud channel not Ready, and waits until the receiver sees that.
func withoutAppSecret(t *testing.T, ch *commercev1alpha1.WhatsAppChannel) {
	t.Helper()
	var secret corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ch.Namespace, Name: "wa"}, &secret); err != nil {
		t.Fatal(err)
	}
	delete(secret.Data, commercev1alpha1.SecretKeyAppSecret)
	if err := env.Client.Update(ctx, &secret); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the channel to turn not Ready", func() bool {
		_ = mgrCache.Get(ctx, client.ObjectKeyFromObject(ch), ch)
		c := meta.FindStatusCondition(ch.Status.Conditions, commercev1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == "MissingSecretKey"
	})
}
