package webhookreceiver_test

import (
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func TestChannelNotReadyAnswers503(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	// Removing the app secret makes a Cloud channel not Ready; its path stays
	// published so that WhatsApp retries instead of getting a 404.
	withoutAppSecret(t, ch)
	r := post(t, ch.Status.WebhookPath, sample(t, "cloud-order-multi-item.json"), appSecret)
	if r.code != http.StatusServiceUnavailable || r.retryAfter == "" {
		t.Fatalf("answer %d (Retry-After %q), want 503 with Retry-After", r.code, r.retryAfter)
	}
	if n := len(orders(t, ch.Namespace)); n != 0 {
		t.Fatalf("%d orders stored for a channel that is not Ready", n)
	}
}

func TestRotatedAppSecretTakesEffectAtOnce(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	body := sample(t, "cloud-product-inquiry.json")
	if r := post(t, ch.Status.WebhookPath, body, appSecret); r.code != http.StatusOK {
		t.Fatalf("before rotation: %d %s", r.code, r.body)
	}
	var secret corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ch.Namespace, Name: "wa"}, &secret); err != nil {
		t.Fatal(err)
	}
	secret.Data[commercev1alpha1.SecretKeyAppSecret] = []byte("rotated-app-secret")
	if err := env.Client.Update(ctx, &secret); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rotated secret to be accepted", func() bool {
		return post(t, ch.Status.WebhookPath, body, "rotated-app-secret").code == http.StatusOK
	})
	if r := post(t, ch.Status.WebhookPath, body, appSecret); r.code != http.StatusUnauthorized {
		t.Fatalf("the old app secret still works: %d", r.code)
	}
}

func TestEntriesForAnotherPhoneNumberAreAcknowledgedNotStored(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud, phone: "999999"})
	r := post(t, ch.Status.WebhookPath, sample(t, "cloud-order-multi-item.json"), appSecret)
	if r.code != http.StatusOK {
		t.Fatalf("answer %d %s, want 200", r.code, r.body)
	}
	if n := len(orders(t, ch.Namespace)); n != 0 {
		t.Fatalf("%d orders stored for another phone number", n)
	}
	eventually(t, "a Warning event on the channel", func() bool {
		var events eventsv1List
		_ = env.Client.List(ctx, &events.EventList, client.InNamespace(ch.Namespace))
		for _, e := range events.Items {
			if e.Reason == "UnexpectedPhoneNumber" && e.Type == corev1.EventTypeWarning && e.Regarding.Name == ch.Name {
				return true
			}
		}
		return false
	})
}

func TestOnPremisesSignatureOnlyWhenAppSecretIsSet(t *testing.T) {
	unsigned := newChannel(t, channelOpts{api: commercev1alpha1.APIOnPremises, secret: map[string]string{commercev1alpha1.SecretKeyWebhookToken: "on-premises-webhook-token-1"}})
	if r := post(t, unsigned.Status.WebhookPath, sample(t, "onprem-order-multi-item.json"), ""); r.code != http.StatusOK {
		t.Fatalf("unsigned On-Premises delivery answered %d %s, want 200", r.code, r.body)
	}
	signed := newChannel(t, channelOpts{api: commercev1alpha1.APIOnPremises})
	if r := post(t, signed.Status.WebhookPath, sample(t, "onprem-order-multi-item.json"), ""); r.code != http.StatusUnauthorized {
		t.Fatalf("unsigned delivery to an On-Premises channel with an app secret answered %d, want 401", r.code)
	}
	if r := post(t, signed.Status.WebhookPath, sample(t, "onprem-order-multi-item.json"), appSecret); r.code != http.StatusOK {
		t.Fatalf("signed delivery answered %d %s, want 200", r.code, r.body)
	}
}
