package controllers

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The product message's decisions, with no client at all; the envtest
// scenarios in productmessage_controller_test.go prove the whole.

func testMessage(change func(*commercev1alpha1.ProductMessage)) *commercev1alpha1.ProductMessage {
	pm := &commercev1alpha1.ProductMessage{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-ns", Name: "summer"}, Spec: commercev1alpha1.ProductMessageSpec{
		Channel: "shop", To: commercev1alpha1.Recipient{WaID: "16505551234"}, CatalogID: "c1", Header: "Picks", Body: "For you",
		Sections: []commercev1alpha1.ProductSection{{Title: "Tees", ProductRetailerIDs: []string{"a", "b"}}},
	}}
	if change != nil {
		change(pm)
	}
	return pm
}

func TestProductMessageDue(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pm         *commercev1alpha1.ProductMessage
		api        commercev1alpha1.APIGeneration
		want       pmsgAction
		wantReason string
	}{
		{"new, Cloud", testMessage(nil), commercev1alpha1.APICloud, pmsgSend, ""},
		{"new, On-Premises", testMessage(nil), commercev1alpha1.APIOnPremises, pmsgSend, ""},
		{"sent stays sent", testMessage(func(pm *commercev1alpha1.ProductMessage) { pm.Status.Phase = commercev1alpha1.ProductMessageSent }), commercev1alpha1.APICloud, pmsgSettled, ""},
		{"failed stays failed", testMessage(func(pm *commercev1alpha1.ProductMessage) { pm.Status.Phase = commercev1alpha1.ProductMessageFailed }), commercev1alpha1.APICloud, pmsgSettled, ""},
		{"tracked", testMessage(func(pm *commercev1alpha1.ProductMessage) { pm.Spec.MessageID = "wamid.x" }), commercev1alpha1.APIOnPremises, pmsgTrack, commercev1alpha1.ReasonTracked},
		{"catalog on On-Premises", testMessage(func(pm *commercev1alpha1.ProductMessage) {
			pm.Spec.Sections, pm.Spec.Catalog = nil, &commercev1alpha1.CatalogShowcase{}
		}), commercev1alpha1.APIOnPremises, pmsgFail, commercev1alpha1.ReasonNotSupportedByAPI},
		{"catalog on Cloud", testMessage(func(pm *commercev1alpha1.ProductMessage) {
			pm.Spec.Sections, pm.Spec.Catalog = nil, &commercev1alpha1.CatalogShowcase{}
		}), commercev1alpha1.APICloud, pmsgSend, ""},
		{"user id on On-Premises", testMessage(func(pm *commercev1alpha1.ProductMessage) {
			pm.Spec.To = commercev1alpha1.Recipient{UserID: "US.1"}
		}), commercev1alpha1.APIOnPremises, pmsgFail, commercev1alpha1.ReasonNotSupportedByAPI},
		// A message WhatsApp took and then reported failed fails, as a reply does.
		{"failed after WhatsApp took it", testMessage(func(pm *commercev1alpha1.ProductMessage) {
			pm.Status.Phase = commercev1alpha1.ProductMessageSent
			pm.Status.SentMessage = commercev1alpha1.SentMessage{MessageID: "wamid.1", DeliveryStatus: commercev1alpha1.DeliveryFailed}
		}), commercev1alpha1.APICloud, pmsgFail, commercev1alpha1.ReasonDeliveryFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			action, o := productMessageDue(tc.pm, tc.api)
			cond := asCondition(o, commercev1alpha1.ConditionSent)
			if action != tc.want {
				t.Errorf("action %d, want %d", action, tc.want)
			}
			if (cond == nil) != (tc.wantReason == "") || (cond != nil && cond.Reason != tc.wantReason) {
				t.Errorf("Sent %+v, want reason %q", cond, tc.wantReason)
			}
		})
	}
}

func TestProductMessageRequest(t *testing.T) {
	single := testMessage(func(pm *commercev1alpha1.ProductMessage) {
		pm.Spec.Sections, pm.Spec.Header = nil, ""
		pm.Spec.Product = &commercev1alpha1.SingleProduct{ProductRetailerID: "a"}
		pm.Spec.To.UserID = "US.1"
	})
	send, p := productMessageRequest(single, "wamid.q", productMessageRef(single, commercev1alpha1.FormInteractive).String())
	wantSend := whatsapp.Send{To: whatsapp.Recipient{WaID: "16505551234", UserID: "US.1"}, ReplyTo: "wamid.q", CallbackData: "wco1|ProductMessage|shop-ns|summer|product"}
	wantP := whatsapp.Products{Kind: whatsapp.SingleProduct, CatalogID: "c1", ProductRetailerID: "a", Body: "For you"}
	if !reflect.DeepEqual(send, wantSend) || !reflect.DeepEqual(p, wantP) {
		t.Errorf("single product: %+v %+v", send, p)
	}
	_, p = productMessageRequest(testMessage(nil), "", "")
	if want := (whatsapp.Products{Kind: whatsapp.MultiProduct, CatalogID: "c1", Header: "Picks", Body: "For you", Sections: []whatsapp.Section{{Title: "Tees", ProductRetailerIDs: []string{"a", "b"}}}}); !reflect.DeepEqual(p, want) {
		t.Errorf("sections: %+v", p)
	}
	catalog := testMessage(func(pm *commercev1alpha1.ProductMessage) {
		pm.Spec.Sections, pm.Spec.Header, pm.Spec.Catalog = nil, "", &commercev1alpha1.CatalogShowcase{ThumbnailProductRetailerID: "b"}
	})
	send, p = productMessageRequest(catalog, "", productMessageRef(catalog, commercev1alpha1.FormTemplate).String())
	if p.Kind != whatsapp.CatalogMessage || p.ProductRetailerID != "b" || send.CallbackData != "wco1|ProductMessage|shop-ns|summer|template" {
		t.Errorf("catalog as a template: %+v %+v", send, p)
	}
}

func TestProductMessageOutcome(t *testing.T) {
	now := time.Unix(1750096325, 0)
	withTemplate := testMessage(func(pm *commercev1alpha1.ProductMessage) {
		pm.Spec.Template = &commercev1alpha1.ProductTemplate{Name: "t", Language: "en"}
	})
	singleWithTemplate := testMessage(func(pm *commercev1alpha1.ProductMessage) {
		pm.Spec.Sections, pm.Spec.Product = nil, &commercev1alpha1.SingleProduct{ProductRetailerID: "a"}
		pm.Spec.Template = &commercev1alpha1.ProductTemplate{Name: "t", Language: "en"}
	})
	refusal := &commercev1alpha1.MessageError{Code: 131009, Message: "Product not found"}
	for _, tc := range []struct {
		name       string
		pm         *commercev1alpha1.ProductMessage
		form       commercev1alpha1.ProductMessageForm
		res        sendResult
		api        commercev1alpha1.APIGeneration
		wantPhase  commercev1alpha1.ProductMessagePhase
		wantForm   commercev1alpha1.ProductMessageForm
		wantReason string
		wantAgain  bool
		wantRecord *commercev1alpha1.SentMessage
	}{
		{"sent", testMessage(nil), commercev1alpha1.FormInteractive, sendResult{Reason: commercev1alpha1.ReasonSent, MessageID: "wamid.1"}, commercev1alpha1.APICloud,
			commercev1alpha1.ProductMessageSent, commercev1alpha1.FormInteractive, commercev1alpha1.ReasonSent, false, &commercev1alpha1.SentMessage{MessageID: "wamid.1", SentAt: &metav1.Time{Time: now}}},
		{"window closed, template: send it now", withTemplate, commercev1alpha1.FormInteractive, sendResult{Reason: commercev1alpha1.ReasonWindowClosed}, commercev1alpha1.APICloud,
			commercev1alpha1.ProductMessagePending, commercev1alpha1.FormTemplate, commercev1alpha1.ReasonWindowClosed, true, nil},
		{"window closed, On-Premises MPM template", withTemplate, commercev1alpha1.FormInteractive, sendResult{Reason: commercev1alpha1.ReasonWindowClosed}, commercev1alpha1.APIOnPremises,
			commercev1alpha1.ProductMessagePending, commercev1alpha1.FormTemplate, commercev1alpha1.ReasonWindowClosed, true, nil},
		{"window closed, On-Premises has no catalog template", singleWithTemplate, commercev1alpha1.FormInteractive, sendResult{Reason: commercev1alpha1.ReasonWindowClosed}, commercev1alpha1.APIOnPremises,
			commercev1alpha1.ProductMessageFailed, commercev1alpha1.FormInteractive, commercev1alpha1.ReasonNotSupportedByAPI, false, &commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{}, SentAt: &metav1.Time{Time: now}}},
		{"window closed, no template", testMessage(nil), commercev1alpha1.FormInteractive, sendResult{Reason: commercev1alpha1.ReasonWindowClosed, Message: "closed"}, commercev1alpha1.APICloud,
			commercev1alpha1.ProductMessageFailed, commercev1alpha1.FormInteractive, commercev1alpha1.ReasonWindowClosed, false, &commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{Message: "closed"}, SentAt: &metav1.Time{Time: now}}},
		{"template refused as window closed: once only", withTemplate, commercev1alpha1.FormTemplate, sendResult{Reason: commercev1alpha1.ReasonWindowClosed, Message: "closed"}, commercev1alpha1.APICloud,
			commercev1alpha1.ProductMessageFailed, commercev1alpha1.FormTemplate, commercev1alpha1.ReasonWindowClosed, false, &commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{Message: "closed"}, SentAt: &metav1.Time{Time: now}}},
		{"template sent", withTemplate, commercev1alpha1.FormTemplate, sendResult{Reason: commercev1alpha1.ReasonSent, MessageID: "wamid.2"}, commercev1alpha1.APICloud,
			commercev1alpha1.ProductMessageSent, commercev1alpha1.FormTemplate, commercev1alpha1.ReasonSent, false, &commercev1alpha1.SentMessage{MessageID: "wamid.2", SentAt: &metav1.Time{Time: now}}},
		{"final refusal", testMessage(nil), commercev1alpha1.FormInteractive, sendResult{Reason: commercev1alpha1.ReasonSendFailed, Message: "bad", Error: refusal}, commercev1alpha1.APICloud,
			commercev1alpha1.ProductMessageFailed, commercev1alpha1.FormInteractive, commercev1alpha1.ReasonSendFailed, false, &commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: refusal, SentAt: &metav1.Time{Time: now}}},
		{"rate limited", testMessage(nil), commercev1alpha1.FormInteractive, sendResult{Reason: commercev1alpha1.ReasonRetrying}, commercev1alpha1.APICloud,
			commercev1alpha1.ProductMessagePending, commercev1alpha1.FormInteractive, commercev1alpha1.ReasonRetrying, false, nil},
		{"template retried stays a template", withTemplate, commercev1alpha1.FormTemplate, sendResult{Reason: commercev1alpha1.ReasonRetrying}, commercev1alpha1.APICloud,
			commercev1alpha1.ProductMessagePending, commercev1alpha1.FormTemplate, commercev1alpha1.ReasonRetrying, false, nil},
		{"channel not ready", testMessage(nil), commercev1alpha1.FormInteractive, sendResult{Reason: commercev1alpha1.ReasonChannelNotReady}, commercev1alpha1.APICloud,
			commercev1alpha1.ProductMessagePending, commercev1alpha1.FormInteractive, commercev1alpha1.ReasonChannelNotReady, false, nil},
		{"no answer at all keeps the intent", testMessage(nil), commercev1alpha1.FormInteractive, sendResult{Reason: commercev1alpha1.ReasonRetrying, Unanswered: true}, commercev1alpha1.APICloud,
			commercev1alpha1.ProductMessagePending, commercev1alpha1.FormInteractive, commercev1alpha1.ReasonRetrying, false, nil},
		{"no answer On-Premises: nothing to keep", testMessage(nil), commercev1alpha1.FormInteractive, sendResult{Reason: commercev1alpha1.ReasonRetrying, Unanswered: true}, commercev1alpha1.APIOnPremises,
			commercev1alpha1.ProductMessagePending, commercev1alpha1.FormInteractive, commercev1alpha1.ReasonRetrying, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cb := "" // On-Premises sends carry none
			if tc.api == commercev1alpha1.APICloud {
				cb = productMessageRef(tc.pm, tc.form).String()
			}
			out := productMessageOutcome(tc.pm, tc.form, tc.res, tc.api, cb, now)
			sent := asCondition(out.outcome, commercev1alpha1.ConditionSent)
			if out.record != nil {
				if out.record.CallbackData != cb {
					t.Errorf("record's callback data %q, want %q", out.record.CallbackData, cb)
				}
				out.record.CallbackData = ""
			}
			if wantKeep := cb != "" && tc.res.Unanswered; out.keepIntent != wantKeep {
				t.Errorf("keepIntent %v, want %v", out.keepIntent, wantKeep)
			}
			if out.phase != tc.wantPhase || out.form != tc.wantForm || out.again != tc.wantAgain || sent == nil || sent.Reason != tc.wantReason {
				t.Errorf("outcome %+v (Sent %+v), want phase %s form %s again %v reason %s", out, sent, tc.wantPhase, tc.wantForm, tc.wantAgain, tc.wantReason)
			}
			if tc.wantRecord != nil && tc.wantRecord.Error != nil && tc.wantRecord.Error.Message == "" && out.record != nil && out.record.Error != nil {
				tc.wantRecord.Error.Message = out.record.Error.Message // the message wording is not pinned here
			}
			if !reflect.DeepEqual(out.record, tc.wantRecord) {
				t.Errorf("record %+v, want %+v", out.record, tc.wantRecord)
			}
			if (sent.Status == metav1.ConditionTrue) != (tc.wantPhase == commercev1alpha1.ProductMessageSent) {
				t.Errorf("Sent status %s for phase %s", sent.Status, out.phase)
			}
		})
	}
}

func TestProductMessageRecorded(t *testing.T) {
	now := time.Unix(1750096325, 0)
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(d)} }
	cb := "wco1|ProductMessage|shop-ns|summer|product"
	for _, tc := range []struct {
		name       string
		rec        commercev1alpha1.SentMessage
		wantReason string
		wantWait   time.Duration
		wantPhase  commercev1alpha1.ProductMessagePhase
	}{
		{"nothing recorded: send", commercev1alpha1.SentMessage{}, "", 0, commercev1alpha1.ProductMessagePending},
		{"intent just written: wait for its status", commercev1alpha1.SentMessage{CallbackData: cb, SentAt: at(-30 * time.Second)}, commercev1alpha1.ReasonAwaitingStatus, testIntentTimeout - 30*time.Second, commercev1alpha1.ProductMessagePending},
		{"intent waited out the bound: send again", commercev1alpha1.SentMessage{CallbackData: cb, SentAt: at(-testIntentTimeout)}, "", 0, commercev1alpha1.ProductMessagePending},
		{"intent resolved by the receiver: sent", commercev1alpha1.SentMessage{CallbackData: cb, MessageID: "wamid.1", DeliveryStatus: commercev1alpha1.DeliverySent, SentAt: at(-time.Hour)}, commercev1alpha1.ReasonSent, 0, commercev1alpha1.ProductMessageSent},
		// As for a reply: the status said WhatsApp took it, then could not deliver it.
		{"intent resolved by a failed status: failed", commercev1alpha1.SentMessage{CallbackData: cb, MessageID: "wamid.1", DeliveryStatus: commercev1alpha1.DeliveryFailed, SentAt: at(-time.Hour)}, commercev1alpha1.ReasonDeliveryFailed, 0, commercev1alpha1.ProductMessageFailed},
		{"On-Premises record without callback data: not an intent", commercev1alpha1.SentMessage{SentAt: at(-time.Second)}, "", 0, commercev1alpha1.ProductMessagePending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pm := testMessage(func(pm *commercev1alpha1.ProductMessage) { pm.Status.SentMessage = tc.rec })
			o, phase, wait := productMessageRecorded(pm, now, seenWhenWritten(sentMessages(pm)...))
			cond := asCondition(o, commercev1alpha1.ConditionSent)
			if (cond == nil) != (tc.wantReason == "") || (cond != nil && cond.Reason != tc.wantReason) || wait != tc.wantWait || phase != tc.wantPhase {
				t.Errorf("got %+v, wait %s, phase %s; want reason %q, wait %s, phase %s", cond, wait, phase, tc.wantReason, tc.wantWait, tc.wantPhase)
			}
		})
	}
}

func TestTemplateNamespace(t *testing.T) {
	channel := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{Notifications: commercev1alpha1.NotificationSettings{
		Template: &commercev1alpha1.MessageTemplate{Name: "order_update", Namespace: "channel_ns"}}}}
	for _, tc := range []struct {
		name string
		t    *commercev1alpha1.ProductTemplate
		ch   *commercev1alpha1.WhatsAppChannel
		want string
	}{
		{"its own", &commercev1alpha1.ProductTemplate{Name: "mpm", Namespace: "own_ns"}, channel, "own_ns"},
		{"the channel's notification template's", &commercev1alpha1.ProductTemplate{Name: "mpm"}, channel, "channel_ns"},
		{"neither", &commercev1alpha1.ProductTemplate{Name: "mpm"}, &commercev1alpha1.WhatsAppChannel{}, ""},
		{"no channel", &commercev1alpha1.ProductTemplate{Name: "mpm"}, nil, ""},
	} {
		if got := templateNamespace(tc.t, tc.ch); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestProductMessageConditions(t *testing.T) {
	sent := func(reason string) *outcome { return outcomeFor(reason, "x") }
	for _, tc := range []struct {
		name          string
		phase         commercev1alpha1.ProductMessagePhase
		sent          *outcome
		ready         metav1.ConditionStatus
		kstatus       string // the kstatus condition present, if any
		kstatusReason string
	}{
		{"before any send", commercev1alpha1.ProductMessagePending, nil, metav1.ConditionTrue, "", ""},
		{"retrying", commercev1alpha1.ProductMessagePending, sent(commercev1alpha1.ReasonRetrying), metav1.ConditionFalse, commercev1alpha1.ConditionReconciling, commercev1alpha1.ReasonRetrying},
		{"waiting for the channel", commercev1alpha1.ProductMessagePending, sent(commercev1alpha1.ReasonChannelNotReady), metav1.ConditionFalse, commercev1alpha1.ConditionReconciling, commercev1alpha1.ReasonChannelNotReady},
		{"waiting for the inquiry", commercev1alpha1.ProductMessagePending, sent(commercev1alpha1.ReasonInquiryNotFound), metav1.ConditionFalse, commercev1alpha1.ConditionReconciling, commercev1alpha1.ReasonInquiryNotFound},
		{"sent", commercev1alpha1.ProductMessageSent, sent(commercev1alpha1.ReasonSent), metav1.ConditionTrue, "", ""},
		{"tracked", commercev1alpha1.ProductMessageSent, sent(commercev1alpha1.ReasonTracked), metav1.ConditionTrue, "", ""},
		{"window closed", commercev1alpha1.ProductMessageFailed, sent(commercev1alpha1.ReasonWindowClosed), metav1.ConditionTrue, commercev1alpha1.ConditionStalled, commercev1alpha1.ReasonWindowClosed},
		{"refused", commercev1alpha1.ProductMessageFailed, sent(commercev1alpha1.ReasonSendFailed), metav1.ConditionTrue, commercev1alpha1.ConditionStalled, commercev1alpha1.ReasonSendFailed},
		{"failed after WhatsApp took it", commercev1alpha1.ProductMessageFailed, sent(commercev1alpha1.ReasonDeliveryFailed), metav1.ConditionTrue, commercev1alpha1.ConditionStalled, commercev1alpha1.ReasonDeliveryFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conds := readiness(string(tc.phase), productMessageKind.doing, tc.sent, nil)
			if conds[0].Type != commercev1alpha1.ConditionReady || conds[0].Status != tc.ready {
				t.Errorf("Ready %+v, want %s", conds[0], tc.ready)
			}
			switch {
			case tc.kstatus == "" && len(conds) != 1:
				t.Errorf("conditions %+v, want Ready alone", conds)
			case tc.kstatus != "" && (len(conds) != 2 || conds[1].Type != tc.kstatus || conds[1].Reason != tc.kstatusReason || conds[1].Status != metav1.ConditionTrue):
				t.Errorf("conditions %+v, want %s True %s", conds, tc.kstatus, tc.kstatusReason)
			}
		})
	}
}

func TestInquiryForReply(t *testing.T) {
	inquiry := &commercev1alpha1.ProductInquiry{ObjectMeta: metav1.ObjectMeta{Name: "q"}, Spec: commercev1alpha1.ProductInquirySpec{Channel: "shop", MessageID: "wamid.q"}}
	other := inquiry.DeepCopy()
	other.Spec.Channel = "other"
	answering := testMessage(func(pm *commercev1alpha1.ProductMessage) { pm.Spec.Inquiry = "q" })
	threaded := testMessage(func(pm *commercev1alpha1.ProductMessage) { pm.Spec.ReplyToMessageID = "wamid.earlier" })

	if replyTo, wait, fail := inquiryForReply(threaded, nil); replyTo != "wamid.earlier" || wait != nil || fail != nil {
		t.Errorf("replyToMessageID: %q %v %v", replyTo, wait, fail)
	}
	if replyTo, wait, fail := inquiryForReply(answering, inquiry); replyTo != "wamid.q" || wait != nil || fail != nil {
		t.Errorf("inquiry: %q %v %v", replyTo, wait, fail)
	}
	if _, wait, _ := inquiryForReply(answering, nil); wait == nil || wait.of != commercev1alpha1.ReasonInquiryNotFound {
		t.Errorf("missing inquiry: wait %+v", wait)
	}
	if _, _, fail := inquiryForReply(answering, other); fail == nil || fail.of != commercev1alpha1.ReasonInquiryOnOtherChannel || !strings.Contains(fail.message, "other") {
		t.Errorf("inquiry on another channel: fail %+v", fail)
	}
}
