package controllers

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
)

func TestChannelConditions(t *testing.T) {
	ch := func(notifications commercev1alpha1.NotificationSettings) *commercev1alpha1.WhatsAppChannel {
		return &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop"},
			Spec: commercev1alpha1.WhatsAppChannelSpec{Notifications: notifications}}
	}
	broken := commercev1alpha1.NotificationSettings{OrderMessages: map[string]string{"Accepted": "{{.Order"}}
	for _, tc := range []struct {
		name                        string
		ch                          *commercev1alpha1.WhatsAppChannel
		err                         *channelsecret.Error
		ready, reconciling, stalled string
	}{
		{"ready", ch(commercev1alpha1.NotificationSettings{}), nil, "True", "", ""},
		{"no Secret: a person must create it", ch(commercev1alpha1.NotificationSettings{}),
			&channelsecret.Error{Reason: commercev1alpha1.ReasonSecretNotFound, Message: "not found"}, commercev1alpha1.ReasonSecretNotFound, "", commercev1alpha1.ReasonSecretNotFound},
		{"API server not answering: retried", ch(commercev1alpha1.NotificationSettings{}),
			&channelsecret.Error{Reason: commercev1alpha1.ReasonSecretUnreadable, Message: "timeout", Transient: true}, commercev1alpha1.ReasonSecretUnreadable, commercev1alpha1.ReasonSecretUnreadable, ""},
		{"broken text", ch(broken), nil, commercev1alpha1.ReasonInvalidNotifications, "", commercev1alpha1.ReasonInvalidNotifications},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conds := channelConditions(tc.ch, "/webhooks/x", tc.err)
			if conds[0].Type != commercev1alpha1.ConditionReady {
				t.Fatalf("Ready is not first: %+v", conds)
			}
			msg := conds[0].Message
			if tc.ready == "True" {
				if conds[0].Reason != commercev1alpha1.ReasonChannelReady || !strings.Contains(msg, "/webhooks/x") {
					t.Errorf("Ready %+v, want ChannelReady naming the path", conds[0])
				}
				conds[0].Reason = commercev1alpha1.ReasonUpToDate // what checkConditions expects of True
			}
			checkConditions(t, conds, tc.ready, msg, tc.reconciling, tc.stalled)
		})
	}
}

func TestWebhookPath(t *testing.T) {
	ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop"},
		Status: commercev1alpha1.WhatsAppChannelStatus{WebhookPath: "/webhooks/old"}}
	token := []byte("a-long-random-webhook-token")
	fromToken := channelsecret.WebhookPath(token, "ns", "shop")
	for _, tc := range []struct {
		name  string
		token []byte
		err   *channelsecret.Error
		want  string
	}{
		{"usable Secret", token, nil, fromToken},
		{"another key missing: the token's path", token, &channelsecret.Error{Reason: commercev1alpha1.ReasonMissingSecretKey}, fromToken},
		{"token missing: the old path", nil, &channelsecret.Error{Reason: commercev1alpha1.ReasonMissingSecretKey}, "/webhooks/old"},
		{"unreadable: the old path", nil, &channelsecret.Error{Reason: commercev1alpha1.ReasonSecretUnreadable, Transient: true}, "/webhooks/old"},
	} {
		if got := webhookPath(ch, tc.token, tc.err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
