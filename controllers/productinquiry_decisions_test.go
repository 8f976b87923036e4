package controllers

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The inquiry's decisions, with no client at all; the envtest scenarios in
// productinquiry_controller_test.go prove the whole.

func testInquiry(reply string, phase commercev1alpha1.InquiryPhase) *commercev1alpha1.ProductInquiry {
	q := &commercev1alpha1.ProductInquiry{ObjectMeta: metav1.ObjectMeta{Name: "shop-q", Generation: 1}, Spec: commercev1alpha1.ProductInquirySpec{
		Channel: "shop", MessageID: "wamid.q", ReceivedAt: metav1.NewTime(received), Customer: commercev1alpha1.Customer{WaID: "16505551234"},
	}, Status: commercev1alpha1.ProductInquiryStatus{Phase: phase}}
	if reply != "" {
		q.Spec.Reply = &commercev1alpha1.InquiryReply{Text: reply}
	}
	return q
}

func TestInquiryDue(t *testing.T) {
	for _, tc := range []struct {
		name       string
		q          *commercev1alpha1.ProductInquiry
		at         time.Duration
		want       inquiryAction
		wantPhase  commercev1alpha1.InquiryPhase
		wantReason string // of Answered; "" when left as it is
	}{
		{"new, no reply", testInquiry("", ""), time.Hour, awaitingReply, commercev1alpha1.InquiryOpen, commercev1alpha1.ReasonAwaitingReply},
		{"reply inside the window", testInquiry("Yes", commercev1alpha1.InquiryOpen), 23 * time.Hour, replyDue, commercev1alpha1.InquiryOpen, ""},
		{"unanswered at 24 hours", testInquiry("", commercev1alpha1.InquiryOpen), 24 * time.Hour, windowExpired, commercev1alpha1.InquiryExpired, commercev1alpha1.ReasonWindowClosed},
		{"reply after the window", testInquiry("Late", commercev1alpha1.InquiryOpen), 25 * time.Hour, windowExpired, commercev1alpha1.InquiryExpired, commercev1alpha1.ReasonWindowClosed},
		{"answered stays answered", testInquiry("Yes", commercev1alpha1.InquiryAnswered), 48 * time.Hour, settled, commercev1alpha1.InquiryAnswered, ""},
		{"failed stays failed", testInquiry("Yes", commercev1alpha1.InquiryFailed), time.Hour, settled, commercev1alpha1.InquiryFailed, ""},
		{"intent of a minute ago waits for its status", withReply(testInquiry("Yes", commercev1alpha1.InquiryOpen), commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: &metav1.Time{Time: received.Add(59 * time.Minute)}}),
			time.Hour, awaitingStatus, commercev1alpha1.InquiryOpen, commercev1alpha1.ReasonAwaitingStatus},
		{"intent past the timeout is sent again", withReply(testInquiry("Yes", commercev1alpha1.InquiryOpen), commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: &metav1.Time{Time: received}}),
			time.Hour, replyDue, commercev1alpha1.InquiryOpen, ""},
		{"intent the receiver resolved: answered", withReply(testInquiry("Yes", commercev1alpha1.InquiryOpen), commercev1alpha1.SentMessage{CallbackData: "cb", MessageID: "wamid.r", DeliveryStatus: commercev1alpha1.DeliverySent}),
			time.Hour, settled, commercev1alpha1.InquiryAnswered, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			action, phase, o := inquiryDue(tc.q, received.Add(tc.at), seenWhenWritten(sentMessages(tc.q)...), "")
			answered := asCondition(o, commercev1alpha1.ConditionAnswered)
			if action != tc.want || phase != tc.wantPhase {
				t.Errorf("action %d phase %s, want %d %s", action, phase, tc.want, tc.wantPhase)
			}
			switch {
			case tc.wantPhase == commercev1alpha1.InquiryAnswered && tc.q.Status.Phase == commercev1alpha1.InquiryOpen:
				if answered == nil || answered.Status != metav1.ConditionTrue || !strings.Contains(answered.Message, "wamid.r") {
					t.Errorf("Answered %+v, want True naming the message", answered)
				}
			case tc.wantReason == "" && answered != nil:
				t.Errorf("Answered decided (%+v), want it left as it is", answered)
			case tc.wantReason != "" && (answered == nil || answered.Reason != tc.wantReason || answered.Status != metav1.ConditionFalse):
				t.Errorf("Answered %+v, want False %s", answered, tc.wantReason)
			}
		})
	}
}

func TestInquiryAnsweredWithProducts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		q         *commercev1alpha1.ProductInquiry
		at        time.Duration
		want      inquiryAction
		wantPhase commercev1alpha1.InquiryPhase
	}{
		{"open", testInquiry("", commercev1alpha1.InquiryOpen), time.Hour, answeredWithProducts, commercev1alpha1.InquiryAnswered},
		{"with a reply not sent yet", testInquiry("Yes", commercev1alpha1.InquiryOpen), time.Hour, answeredWithProducts, commercev1alpha1.InquiryAnswered},
		{"seen after the window (WhatsApp took it)", testInquiry("", commercev1alpha1.InquiryOpen), 25 * time.Hour, answeredWithProducts, commercev1alpha1.InquiryAnswered},
		{"expired before", testInquiry("", commercev1alpha1.InquiryExpired), 25 * time.Hour, settled, commercev1alpha1.InquiryExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			action, phase, o := inquiryDue(tc.q, received.Add(tc.at), seenWhenWritten(sentMessages(tc.q)...), "summer-picks")
			answered := asCondition(o, commercev1alpha1.ConditionAnswered)
			if action != tc.want || phase != tc.wantPhase {
				t.Fatalf("action %d phase %s, want %d %s", action, phase, tc.want, tc.wantPhase)
			}
			if tc.want == answeredWithProducts && (answered == nil || answered.Status != metav1.ConditionTrue ||
				answered.Reason != commercev1alpha1.ReasonAnsweredWithProducts || !strings.Contains(answered.Message, "summer-picks")) {
				t.Errorf("Answered %+v, want True AnsweredWithProducts naming the message", answered)
			}
		})
	}
}

func TestReplyOutcome(t *testing.T) {
	for _, tc := range []struct {
		res       sendResult
		wantPhase commercev1alpha1.InquiryPhase
	}{
		{sendResult{Reason: commercev1alpha1.ReasonSent, MessageID: "wamid.r"}, commercev1alpha1.InquiryAnswered},
		{sendResult{Reason: commercev1alpha1.ReasonWindowClosed, Message: "131047"}, commercev1alpha1.InquiryExpired},
		{sendResult{Reason: commercev1alpha1.ReasonSendFailed, Message: "code 100"}, commercev1alpha1.InquiryFailed},
		{sendResult{Reason: commercev1alpha1.ReasonRetrying, Message: "rate limited"}, commercev1alpha1.InquiryOpen},
		{sendResult{Reason: commercev1alpha1.ReasonChannelNotReady, Message: "no channel"}, commercev1alpha1.InquiryOpen},
	} {
		phase, o := replyOutcome(tc.res)
		answered := asCondition(o, commercev1alpha1.ConditionAnswered)
		if phase != tc.wantPhase || answered.Reason != tc.res.Reason {
			t.Errorf("%s: phase %s, Answered %s", tc.res.Reason, phase, answered.Reason)
		}
		want := tc.res.Message
		if tc.res.Reason == commercev1alpha1.ReasonSent {
			want = "wamid.r"
		}
		if !strings.Contains(answered.Message, want) {
			t.Errorf("%s: Answered message %q lost %q", tc.res.Reason, answered.Message, want)
		}
	}
}

func TestInquiryConditions(t *testing.T) {
	answered := func(of sendOutcome) *outcome { return &outcome{of: of, message: "rate limited"} }
	for _, tc := range []struct {
		name                        string
		phase                       commercev1alpha1.InquiryPhase
		answered                    *outcome
		ready, reconciling, stalled string
		readyMessage                string
	}{
		{"awaiting a reply", commercev1alpha1.InquiryOpen, answered(commercev1alpha1.ReasonAwaitingReply), "True", "", "", "phase is Open"},
		// The bug this shape fixes: "replying: ..." was overwritten by "phase is Open".
		{"reply retried", commercev1alpha1.InquiryOpen, answered(commercev1alpha1.ReasonRetrying), commercev1alpha1.ReasonRetrying, commercev1alpha1.ReasonRetrying, "", "replying: rate limited"},
		{"waiting for the channel", commercev1alpha1.InquiryOpen, answered(commercev1alpha1.ReasonChannelNotReady), commercev1alpha1.ReasonChannelNotReady, commercev1alpha1.ReasonChannelNotReady, "", "replying: rate limited"},
		{"answered", commercev1alpha1.InquiryAnswered, answered(commercev1alpha1.ReasonSent), "True", "", "", "phase is Answered"},
		{"expired unanswered", commercev1alpha1.InquiryExpired, answered(outcomeExpiredUnanswered), "True", "", "", "phase is Expired"},
		{"reply refused, window closed", commercev1alpha1.InquiryExpired, answered(commercev1alpha1.ReasonWindowClosed), "True", "", commercev1alpha1.ReasonWindowClosed, "phase is Expired"},
		{"reply refused for good", commercev1alpha1.InquiryFailed, answered(commercev1alpha1.ReasonSendFailed), "True", "", commercev1alpha1.ReasonSendFailed, "phase is Failed"},
		{"reply failed after WhatsApp took it", commercev1alpha1.InquiryFailed, answered(commercev1alpha1.ReasonDeliveryFailed), "True", "", commercev1alpha1.ReasonDeliveryFailed, "phase is Failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkConditions(t, readiness(string(tc.phase), inquiryKind.doing, tc.answered, nil), tc.ready, tc.readyMessage, tc.reconciling, tc.stalled)
		})
	}
}

// A reply WhatsApp took and then reported failed fails the inquiry, whether
// the failure came after the reply was recorded or resolved its intent.
func TestInquiryReplyFailedLater(t *testing.T) {
	failed := commercev1alpha1.SentMessage{MessageID: "wamid.r", DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{Code: 131026, Title: "Message undeliverable"}}
	intentResolved := failed
	intentResolved.CallbackData = "cb"
	for name, q := range map[string]*commercev1alpha1.ProductInquiry{
		"late, after Answered": withReply(testInquiry("Yes", commercev1alpha1.InquiryAnswered), failed),
		"resolving the intent": withReply(testInquiry("Yes", commercev1alpha1.InquiryOpen), intentResolved),
	} {
		t.Run(name, func(t *testing.T) {
			action, phase, o := inquiryDue(q, received.Add(time.Hour), seenWhenWritten(sentMessages(q)...), "")
			c := asCondition(o, commercev1alpha1.ConditionAnswered)
			if action != settled || phase != commercev1alpha1.InquiryFailed || c == nil || c.Status != metav1.ConditionFalse ||
				c.Reason != commercev1alpha1.ReasonDeliveryFailed || !strings.Contains(c.Message, "131026") {
				t.Errorf("action %d phase %s Answered %+v, want settled Failed, False DeliveryFailed naming the code", action, phase, c)
			}
		})
	}
}

func TestInquiryStatusClaimsTheGenerationRead(t *testing.T) {
	read := testInquiry("", commercev1alpha1.InquiryOpen)
	s := &inquiryScope{pass: &pass[*commercev1alpha1.ProductInquiry]{obj: read, generation: read.Generation, now: received.Add(time.Hour)}}
	s.window()
	reread := read.DeepCopy()
	reread.Generation = 2 // a reply was set while this pass ran
	reread.Spec.Reply = &commercev1alpha1.InquiryReply{Text: "Yes"}
	statusOf(inquiryKind, s, read)(reread)
	claimsGeneration(t, 1, reread.Status.ObservedGeneration, reread.Status.Conditions)
}

func withReply(q *commercev1alpha1.ProductInquiry, m commercev1alpha1.SentMessage) *commercev1alpha1.ProductInquiry {
	q.Status.Reply = &m
	return q
}
