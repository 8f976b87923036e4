package channelsecret_test

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
)

// TestLoadReturnsValuesOrAnError reads Secrets a Cloud channel cannot use:
// Load says why, and hands back no secret with the error.
func TestLoadReturnsValuesOrAnError(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	token := "a-long-random-webhook-token"
	for _, tc := range []struct {
		name   string
		data   map[string]string
		reason string
	}{
		{"usable", map[string]string{commercev1alpha1.SecretKeyWebhookToken: token, commercev1alpha1.SecretKeyAppSecret: "app", commercev1alpha1.SecretKeyAccessToken: "access"}, ""},
		{"no-app-secret", map[string]string{commercev1alpha1.SecretKeyWebhookToken: token, commercev1alpha1.SecretKeyAccessToken: "access"}, commercev1alpha1.ReasonMissingSecretKey},
		{"short-token", map[string]string{commercev1alpha1.SecretKeyWebhookToken: "short", commercev1alpha1.SecretKeyAppSecret: "app"}, commercev1alpha1.ReasonSecretKeyNotValid},
		{"no-token", map[string]string{commercev1alpha1.SecretKeyAppSecret: "app"}, commercev1alpha1.ReasonMissingSecretKey},
		{"absent", nil, commercev1alpha1.ReasonSecretNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.data != nil {
				if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tc.name}, StringData: tc.data}); err != nil {
					t.Fatal(err)
				}
			}
			ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
				Spec: commercev1alpha1.WhatsAppChannelSpec{PhoneNumberID: "1234", SecretRef: commercev1alpha1.SecretReference{Name: tc.name}}}
			vals, err := channelsecret.Load(ctx, env.Client, ch)
			if tc.reason == "" {
				if err != nil || string(vals.AccessToken) != "access" {
					t.Fatalf("Load = %v, %v; want the values", vals, err)
				}
				return
			}
			var secretErr *channelsecret.Error
			if !errors.As(err, &secretErr) || secretErr.Reason != tc.reason {
				t.Fatalf("Load error %v, want reason %s", err, tc.reason)
			}
			if vals.WebhookToken != nil || vals.AppSecret != nil || vals.VerifyToken != nil || vals.AccessToken != nil {
				t.Error("Load returned secret values beside its error")
			}
		})
	}
}
