package controllers_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func (w *world) waitReady(ch *commercev1alpha1.WhatsAppChannel, status metav1.ConditionStatus, reason string) *metav1.Condition {
	w.t.Helper()
	var c *metav1.Condition
	w.eventually("Ready "+string(status)+" "+reason, func() bool {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(ch), ch)
		c = meta.FindStatusCondition(ch.Status.Conditions, commercev1alpha1.ConditionReady)
		return c != nil && c.Status == status && c.Reason == reason && c.ObservedGeneration == ch.Generation
	})
	return c
}

func TestChannelReadiness(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "second"}, Spec: commercev1alpha1.WhatsAppChannelSpec{
		PhoneNumberID: "1", SecretRef: commercev1alpha1.SecretReference{Name: "second-secret"}}}
	w.create(ch)
	c := w.waitReady(ch, metav1.ConditionFalse, commercev1alpha1.ReasonSecretNotFound)
	if ch.Status.WebhookPath != "" || !strings.Contains(c.Message, "second-secret") {
		t.Fatalf("status %+v: want no path and a message naming the Secret", ch.Status)
	}
	w.eventually("a Warning event", func() bool { return w.hasEvent(ch, corev1.EventTypeWarning, commercev1alpha1.ReasonSecretNotFound) })

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "second-secret"},
		Data: map[string][]byte{commercev1alpha1.SecretKeyWebhookToken: []byte("short")}}
	w.create(secret)
	w.waitReady(ch, metav1.ConditionFalse, commercev1alpha1.ReasonSecretKeyNotValid)

	secret.Data[commercev1alpha1.SecretKeyWebhookToken] = []byte("now-a-long-random-webhook-token")
	must(t, env.Client.Update(ctx, secret))
	c = w.waitReady(ch, metav1.ConditionFalse, commercev1alpha1.ReasonMissingSecretKey)
	if !strings.Contains(c.Message, "appSecret") || ch.Status.WebhookPath == "" {
		t.Fatalf("want a missing appSecret named and the path published, got %+v", ch.Status)
	}

	secret.Data[commercev1alpha1.SecretKeyAppSecret] = []byte("the-app-secret")
	must(t, env.Client.Update(ctx, secret))
	w.waitReady(ch, metav1.ConditionTrue, "ChannelReady")
	w.eventually("a Normal event", func() bool { return w.hasEvent(ch, corev1.EventTypeNormal, "ChannelReady") })
	first := ch.Status.WebhookPath
	if want := commercev1alpha1.WebhookPath([]byte("now-a-long-random-webhook-token"), w.ns, "second"); first != want || first == w.channel.Status.WebhookPath {
		t.Fatalf("webhook path %q, want %q and distinct from the other channel's", first, want)
	}

	// A rotated token moves the path without a restart.
	secret.Data[commercev1alpha1.SecretKeyWebhookToken] = []byte("rotated-long-random-webhook-token")
	must(t, env.Client.Update(ctx, secret))
	w.eventually("the path to follow the rotated token", func() bool {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(ch), ch)
		return ch.Status.WebhookPath != first && ch.Status.WebhookPath != ""
	})

	// Secrets never reach the status or events.
	var events eventsv1.EventList
	must(t, env.Client.List(ctx, &events, client.InNamespace(w.ns)))
	seen := fmt.Sprintf("%+v %+v", ch.Status, events.Items)
	for _, s := range []string{"rotated-long-random-webhook-token", "now-a-long-random-webhook-token", "the-app-secret", appSecret, accessToken} {
		if strings.Contains(seen, s) {
			t.Errorf("a secret value shows in the status or an event")
		}
	}
}

func TestChannelWithBrokenMessageTemplateIsNotReady(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	patch := []byte(`{"spec":{"notifications":{"orderMessages":{"Accepted":"{{.Order"}}}}`)
	must(t, env.Client.Patch(ctx, w.channel, client.RawPatch("application/merge-patch+json", patch)))
	c := w.waitReady(w.channel, metav1.ConditionFalse, "InvalidNotifications")
	if !strings.Contains(c.Message, "orderMessages.Accepted") {
		t.Fatalf("message %q does not name the broken text", c.Message)
	}
}
