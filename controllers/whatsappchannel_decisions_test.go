package controllers

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

func TestChannelConditions(t *testing.T) {
	meta, err := whatsapp.ParseAllowedURLs(whatsapp.DefaultAllowedURLs)
	if err != nil {
		t.Fatal(err)
	}
	ch := func(notifications commercev1alpha1.NotificationSettings) *commercev1alpha1.WhatsAppChannel {
		return &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop"},
			Spec: commercev1alpha1.WhatsAppChannelSpec{Notifications: notifications}}
	}
	broken := commercev1alpha1.NotificationSettings{OrderMessages: map[string]string{"Accepted": "{{.Order"}}
	hostile := commercev1alpha1.NotificationSettings{OrderMessages: map[string]string{"Accepted": "{{range 9000000000000000000}}{{end}}"}}
	elsewhere := ch(commercev1alpha1.NotificationSettings{})
	elsewhere.Spec.APIURL = "http://metadata.internal/v1"
	onPrem := ch(commercev1alpha1.NotificationSettings{})
	onPrem.Spec.API, onPrem.Spec.APIURL = commercev1alpha1.APIOnPremises, "https://graph.facebook.com/onprem"
	for _, tc := range []struct {
		name                        string
		ch                          *commercev1alpha1.WhatsAppChannel
		err                         *channelsecret.Error
		unsigned                    bool
		ready, reconciling, stalled string
		// says is a part of Ready's message.
		says string
	}{
		{"ready", ch(commercev1alpha1.NotificationSettings{}), nil, false, "True", "", "", "status.webhookPath"},
		{"unsigned On-Premises: Ready, Signed False", onPrem, nil, true, "True", "", "", "status.webhookPath"},
		{"apiURL outside the allowed URLs", elsewhere, nil, false, commercev1alpha1.ReasonAPIURLNotAllowed, "", commercev1alpha1.ReasonAPIURLNotAllowed,
			`apiURL "http://metadata.internal/v1" is not under any URL the operator allows (--allowed-api-urls https://graph.facebook.com/)`},
		{"a text that would never end", ch(hostile), nil, false, commercev1alpha1.ReasonInvalidNotifications, "", commercev1alpha1.ReasonInvalidNotifications,
			"orderMessages.Accepted: range is not allowed"},
		{"no Secret: a person must create it", ch(commercev1alpha1.NotificationSettings{}),
			&channelsecret.Error{Reason: commercev1alpha1.ReasonSecretNotFound, Message: "not found"}, false, commercev1alpha1.ReasonSecretNotFound, "", commercev1alpha1.ReasonSecretNotFound, "not found"},
		{"API server not answering: retried", ch(commercev1alpha1.NotificationSettings{}),
			&channelsecret.Error{Reason: commercev1alpha1.ReasonSecretUnreadable, Message: "timeout", Transient: true}, false, commercev1alpha1.ReasonSecretUnreadable, commercev1alpha1.ReasonSecretUnreadable, "", "timeout"},
		{"broken text", ch(broken), nil, false, commercev1alpha1.ReasonInvalidNotifications, "", commercev1alpha1.ReasonInvalidNotifications, "orderMessages.Accepted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conds := channelConditions(tc.ch, tc.err, !tc.unsigned, meta)
			if conds[0].Type != commercev1alpha1.ConditionReady {
				t.Fatalf("Ready is not first: %+v", conds)
			}
			msg := conds[0].Message
			if !strings.Contains(msg, tc.says) || strings.Contains(msg, commercev1alpha1.WebhookPathPrefix) {
				t.Errorf("Ready message %q: want it to say %q, and never the webhook path", msg, tc.says)
			}
			signed := apimeta.FindStatusCondition(conds, commercev1alpha1.ConditionSigned)
			switch {
			case tc.err != nil && signed != nil:
				t.Errorf("Signed %+v decided without a usable Secret", signed)
			case tc.err == nil && tc.unsigned && (signed == nil || signed.Status != metav1.ConditionFalse || signed.Reason != commercev1alpha1.ReasonUnsigned):
				t.Errorf("Signed %+v, want False Unsigned", signed)
			case tc.err == nil && !tc.unsigned && (signed == nil || signed.Status != metav1.ConditionTrue):
				t.Errorf("Signed %+v, want True", signed)
			}
			if tc.ready == "True" {
				if conds[0].Reason != commercev1alpha1.ReasonChannelReady {
					t.Errorf("Ready %+v, want ChannelReady", conds[0])
				}
				conds[0].Reason = commercev1alpha1.ReasonUpToDate // what checkConditions expects of True
			}
			checkConditions(t, conds, tc.ready, msg, tc.reconciling, tc.stalled)
		})
	}
}

func TestSignedEvent(t *testing.T) {
	signed := &metav1.Condition{Type: commercev1alpha1.ConditionSigned, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonSigned, Message: "signed"}
	unsigned := &metav1.Condition{Type: commercev1alpha1.ConditionSigned, Status: metav1.ConditionFalse, Reason: commercev1alpha1.ReasonUnsigned, Message: "not signed"}
	for _, tc := range []struct {
		name                string
		before, now         *metav1.Condition
		eventType, contains string
	}{
		{"created signed: nothing to say", nil, signed, "", ""},
		{"created unsigned: a Warning", nil, unsigned, corev1.EventTypeWarning, "not signed"},
		{"appSecret removed: a Warning naming the downgrade", signed, unsigned, corev1.EventTypeWarning, `"appSecret" was removed from Secret "wa"`},
		{"appSecret added", unsigned, signed, corev1.EventTypeNormal, "signed"},
		{"still unsigned: said once", unsigned, unsigned, "", ""},
		{"Secret unreadable: nothing decided", signed, nil, "", ""},
	} {
		ev, ok := signedEvent(tc.before, tc.now, "wa")
		if ok != (tc.eventType != "") || ev.eventType != tc.eventType || !strings.Contains(ev.message, tc.contains) {
			t.Errorf("%s: %+v %v, want %q saying %q", tc.name, ev, ok, tc.eventType, tc.contains)
		}
		if ok && ev.eventType == corev1.EventTypeWarning && ev.reason != commercev1alpha1.ReasonUnsigned {
			t.Errorf("%s: reason %q, want Unsigned", tc.name, ev.reason)
		}
	}
}

func TestWebhookPath(t *testing.T) {
	ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop"},
		Status: commercev1alpha1.WhatsAppChannelStatus{WebhookPath: "/webhooks/old"}}
	token := []byte("a-long-random-webhook-token")
	fromToken := commercev1alpha1.WebhookPath(token, "ns", "shop")
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
