package controllers

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The order's decisions, with no client at all; the envtest scenarios in
// whatsapporder_controller_test.go prove the whole.

var received = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testOrder(state commercev1alpha1.OrderState, items ...commercev1alpha1.OrderItem) *commercev1alpha1.WhatsAppOrder {
	if len(items) == 0 {
		items = []commercev1alpha1.OrderItem{{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "7.99", Currency: "USD"}}
	}
	return &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Name: "shop-1", Generation: 1}, Spec: commercev1alpha1.WhatsAppOrderSpec{
		Channel: "shop", ReceivedAt: metav1.NewTime(received), Customer: commercev1alpha1.Customer{WaID: "16505551234", Name: "Sheena"},
		Items: items, State: state,
	}}
}

func sentFor(states ...commercev1alpha1.OrderState) []commercev1alpha1.OrderNotification {
	var out []commercev1alpha1.OrderNotification
	for _, s := range states {
		out = append(out, commercev1alpha1.OrderNotification{State: s})
	}
	return out
}

func TestDueNotifications(t *testing.T) {
	a, s, d := commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped, commercev1alpha1.OrderDelivered
	for _, tc := range []struct {
		state commercev1alpha1.OrderState
		sent  []commercev1alpha1.OrderNotification
		want  string
	}{
		{commercev1alpha1.OrderPending, nil, ""},
		{a, nil, "Accepted"},
		{a, sentFor(a), ""},
		{s, nil, "Accepted,Shipped"},
		{s, sentFor(a), "Shipped"},
		{d, sentFor(a), "Shipped,Delivered"},
		{d, sentFor(a, s, d), ""},
		{commercev1alpha1.OrderCancelled, sentFor(a), "Cancelled"},
		{commercev1alpha1.OrderRejected, nil, "Rejected"},
	} {
		var got []string
		for _, st := range dueNotifications(tc.state, tc.sent) {
			got = append(got, string(st))
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("state %s, sent %v: due %v, want %q", tc.state, tc.sent, got, tc.want)
		}
	}
}

func TestOrderMessageTextOrTemplate(t *testing.T) {
	tmpl := &commercev1alpha1.MessageTemplate{Name: "order_update", Parameters: []string{"{{.Order}}", "{{.State}}"}}
	withTemplate := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{Notifications: commercev1alpha1.NotificationSettings{Template: tmpl}}}
	bare := &commercev1alpha1.WhatsAppChannel{}
	sum := cart.Summary{ItemCount: 2, Total: "15.98", Currency: "USD"}
	for _, tc := range []struct {
		name     string
		ch       *commercev1alpha1.WhatsAppChannel
		template bool
		wantErr  error
	}{
		{"text", withTemplate, false, nil},
		{"template", withTemplate, true, nil},
		{"template, none configured: nothing", bare, true, errNoTemplate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := orderMessage(testOrder(commercev1alpha1.OrderAccepted), tc.ch, commercev1alpha1.OrderAccepted, sum, tc.template)
			if err != tc.wantErr {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if msg.to != (whatsapp.Recipient{WaID: "16505551234"}) {
				t.Errorf("to %+v", msg.to)
			}
			if tc.template {
				if msg.template != tmpl || strings.Join(msg.params, "|") != "shop-1|Accepted" || msg.text != "" {
					t.Errorf("want the template with its parameters, got %+v", msg)
				}
			} else if msg.template != nil || !strings.Contains(msg.text, "15.98 USD") {
				t.Errorf("want the text naming the total, got %+v", msg)
			}
		})
	}
}

func TestNotificationOutcome(t *testing.T) {
	for _, tc := range []struct {
		res        sendResult
		wantStatus metav1.ConditionStatus
	}{
		{sendResult{Reason: commercev1alpha1.ReasonSent, MessageID: "wamid.1"}, metav1.ConditionTrue},
		{sendResult{Reason: commercev1alpha1.ReasonWindowClosed, Message: "closed"}, metav1.ConditionFalse},
		{sendResult{Reason: commercev1alpha1.ReasonSendFailed, Message: "refused", Error: &commercev1alpha1.MessageError{Code: 100}}, metav1.ConditionFalse},
		{sendResult{Reason: commercev1alpha1.ReasonRetrying, Message: "rate limited"}, metav1.ConditionFalse},
		{sendResult{Reason: commercev1alpha1.ReasonChannelNotReady, Message: "no channel"}, metav1.ConditionFalse},
	} {
		cond := asCondition(notificationOutcome(commercev1alpha1.OrderShipped, "order_update", tc.res), commercev1alpha1.ConditionCustomerNotified)
		if cond.Type != commercev1alpha1.ConditionCustomerNotified || cond.Status != tc.wantStatus || cond.Reason != tc.res.Reason {
			t.Errorf("%s: condition %+v", tc.res.Reason, cond)
		}
		if tc.wantStatus == metav1.ConditionTrue && !strings.Contains(cond.Message, "template order_update (message wamid.1)") {
			t.Errorf("%s: message %q names neither template nor message id", tc.res.Reason, cond.Message)
		}
	}
}

func notif(state commercev1alpha1.OrderState, template string, m commercev1alpha1.SentMessage) commercev1alpha1.OrderNotification {
	return commercev1alpha1.OrderNotification{State: state, Template: template, SentMessage: m}
}

func TestNextNotification(t *testing.T) {
	a, s := commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped
	tmpl := &commercev1alpha1.MessageTemplate{Name: "order_update"}
	withTemplate := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{Notifications: commercev1alpha1.NotificationSettings{Template: tmpl}}}
	bare := &commercev1alpha1.WhatsAppChannel{}
	now := received.Add(time.Hour)
	sentAt := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(-d)} }
	accepted := commercev1alpha1.SentMessage{MessageID: "wamid.a", SentAt: sentAt(time.Minute)}
	closedLater := commercev1alpha1.SentMessage{MessageID: "wamid.a", DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{Code: 131047}}
	undeliverable := commercev1alpha1.SentMessage{MessageID: "wamid.a", DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{Code: 131026}}
	for _, tc := range []struct {
		name         string
		state        commercev1alpha1.OrderState
		sent         []commercev1alpha1.OrderNotification
		ch           *commercev1alpha1.WhatsAppChannel
		at           time.Time
		wantKind     stepKind
		wantState    commercev1alpha1.OrderState
		wantTemplate bool
		wantWait     time.Duration
	}{
		{name: "pending order: nothing", state: commercev1alpha1.OrderPending, ch: bare, at: now, wantKind: stepNone},
		{name: "accepted: text", state: a, ch: bare, at: now, wantKind: stepSend, wantState: a},
		{name: "accepted after the window: template", state: a, ch: withTemplate, at: received.Add(window), wantKind: stepSend, wantState: a, wantTemplate: true},
		{name: "shipped, accepted told: shipped", state: s, sent: []commercev1alpha1.OrderNotification{notif(a, "", accepted)}, ch: bare, at: now, wantKind: stepSend, wantState: s},
		{name: "fresh intent waits for its status", state: s,
			sent: []commercev1alpha1.OrderNotification{notif(a, "", commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: sentAt(30 * time.Second)})},
			ch:   bare, at: now, wantKind: stepAwait, wantState: a, wantWait: testIntentTimeout - 30*time.Second},
		{name: "intent past the timeout is sent again, before anything else", state: s,
			sent: []commercev1alpha1.OrderNotification{notif(a, "order_update", commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: sentAt(testIntentTimeout)})},
			ch:   withTemplate, at: now, wantKind: stepSend, wantState: a, wantTemplate: true},
		{name: "text failed later, window closed: template", state: s, sent: []commercev1alpha1.OrderNotification{notif(a, "", closedLater)}, ch: withTemplate, at: now,
			wantKind: stepSend, wantState: a, wantTemplate: true},
		{name: "window closed but no template: next state", state: s, sent: []commercev1alpha1.OrderNotification{notif(a, "", closedLater)}, ch: bare, at: now,
			wantKind: stepSend, wantState: s},
		{name: "template sent once only", state: a, sent: []commercev1alpha1.OrderNotification{notif(a, "", closedLater), notif(a, "order_update", accepted)}, ch: withTemplate, at: now,
			wantKind: stepNone},
		{name: "failed for another reason: no template", state: a, sent: []commercev1alpha1.OrderNotification{notif(a, "", undeliverable)}, ch: withTemplate, at: now,
			wantKind: stepNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOrder(tc.state)
			o.Status.Notifications = tc.sent
			got := nextNotification(o, tc.ch, tc.at, seenWhenWritten(sentMessages(o)...))
			if got.kind != tc.wantKind || got.state != tc.wantState || got.template != tc.wantTemplate || got.wait != tc.wantWait {
				t.Errorf("got %+v, want kind %d state %q template %v wait %v", got, tc.wantKind, tc.wantState, tc.wantTemplate, tc.wantWait)
			}
		})
	}
}

func TestRecordedNotified(t *testing.T) {
	a := commercev1alpha1.OrderAccepted
	for _, tc := range []struct {
		name       string
		last       commercev1alpha1.SentMessage
		wantStatus metav1.ConditionStatus
		wantReason string
		wantText   string
	}{
		{"accepted", commercev1alpha1.SentMessage{MessageID: "wamid.a"}, metav1.ConditionTrue, commercev1alpha1.ReasonSent, "wamid.a"},
		{"delivered", commercev1alpha1.SentMessage{MessageID: "wamid.a", DeliveryStatus: commercev1alpha1.DeliveryRead}, metav1.ConditionTrue, commercev1alpha1.ReasonSent, "wamid.a"},
		{"intent", commercev1alpha1.SentMessage{CallbackData: "cb"}, metav1.ConditionFalse, commercev1alpha1.ReasonAwaitingStatus, "intent timeout"},
		{"failed later", commercev1alpha1.SentMessage{MessageID: "wamid.a", DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{Code: 131026, Title: "Message undeliverable"}},
			metav1.ConditionFalse, commercev1alpha1.ReasonDeliveryFailed, "131026 Message undeliverable"},
		{"refused, window closed", commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{Code: 470}},
			metav1.ConditionFalse, commercev1alpha1.ReasonWindowClosed, "470"},
		{"refused", commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{Message: "bad text"}},
			metav1.ConditionFalse, commercev1alpha1.ReasonSendFailed, "bad text"},
	} {
		got := asCondition(recordedNotified([]commercev1alpha1.OrderNotification{notif(a, "", tc.last)}), commercev1alpha1.ConditionCustomerNotified)
		if got.Status != tc.wantStatus || got.Reason != tc.wantReason || !strings.Contains(got.Message, tc.wantText) {
			t.Errorf("%s: %+v, want %s %s mentioning %q", tc.name, got, tc.wantStatus, tc.wantReason, tc.wantText)
		}
	}
	if recordedNotified(nil) != nil {
		t.Error("no notification yet must leave CustomerNotified to the caller")
	}
}

// applyTo merges a send's record into what the status holds when it is
// written, which the receiver may have changed since the intent was recorded.
func TestNotificationRecordApplyTo(t *testing.T) {
	a, s := commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped
	intentA := notif(a, "", commercev1alpha1.SentMessage{CallbackData: "cb-a"})
	accepted := &commercev1alpha1.SentMessage{MessageID: "wamid.a", CallbackData: "cb-a"}
	for _, tc := range []struct {
		name string
		have []commercev1alpha1.OrderNotification
		rec  notificationRecord
		want []commercev1alpha1.OrderNotification
	}{
		{"On-Premises: appended", nil, notificationRecord{state: a, message: &commercev1alpha1.SentMessage{MessageID: "op"}},
			[]commercev1alpha1.OrderNotification{notif(a, "", commercev1alpha1.SentMessage{MessageID: "op"})}},
		{"intent becomes the record", []commercev1alpha1.OrderNotification{intentA}, notificationRecord{state: a, message: accepted},
			[]commercev1alpha1.OrderNotification{notif(a, "", *accepted)}},
		{"the receiver got there first: its status stays",
			[]commercev1alpha1.OrderNotification{notif(a, "", commercev1alpha1.SentMessage{MessageID: "wamid.a", CallbackData: "cb-a", DeliveryStatus: commercev1alpha1.DeliveryDelivered})},
			notificationRecord{state: a, message: accepted},
			[]commercev1alpha1.OrderNotification{notif(a, "", commercev1alpha1.SentMessage{MessageID: "wamid.a", CallbackData: "cb-a", DeliveryStatus: commercev1alpha1.DeliveryDelivered})}},
		{"retried send: the intent goes", []commercev1alpha1.OrderNotification{notif(s, "", *accepted), intentA}, notificationRecord{state: a},
			[]commercev1alpha1.OrderNotification{notif(s, "", *accepted)}},
		{"unanswered send: the intent stays", []commercev1alpha1.OrderNotification{intentA}, notificationRecord{state: a, keepIntent: true},
			[]commercev1alpha1.OrderNotification{intentA}},
		{"template beside the failed text", []commercev1alpha1.OrderNotification{notif(a, "", *accepted)},
			notificationRecord{state: a, template: "order_update", message: &commercev1alpha1.SentMessage{MessageID: "wamid.t"}},
			[]commercev1alpha1.OrderNotification{notif(a, "", *accepted), notif(a, "order_update", commercev1alpha1.SentMessage{MessageID: "wamid.t"})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.rec.applyTo(slices.Clone(tc.have))
			if !equality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestOrderConditions(t *testing.T) {
	valid := metav1.Condition{Type: commercev1alpha1.ConditionValidated, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonCartValid}
	invalid := metav1.Condition{Type: commercev1alpha1.ConditionValidated, Status: metav1.ConditionFalse, Reason: commercev1alpha1.ReasonUnknownCurrency, Message: "XYZ"}
	notified := func(reason string) *outcome { return outcomeFor(reason, "why") }
	for _, tc := range []struct {
		name                        string
		phase                       commercev1alpha1.OrderPhase
		validated                   metav1.Condition
		notified                    *outcome
		ready, reconciling, stalled string // reasons; "" is absent, for Ready "True"
		readyMessage                string
	}{
		{"new and pending", "Pending", valid, nil, "True", "", "", "phase is Pending"},
		{"notified", "Accepted", valid, notified(commercev1alpha1.ReasonSent), "True", "", "", "phase is Accepted"},
		{"nothing to send", "Pending", valid, notified(commercev1alpha1.ReasonNothingToSend), "True", "", "", "phase is Pending"},
		{"retrying", "Accepted", valid, notified(commercev1alpha1.ReasonRetrying), commercev1alpha1.ReasonRetrying, commercev1alpha1.ReasonRetrying, "", "notifying the customer: why"},
		{"waiting for the channel", "Accepted", valid, notified(commercev1alpha1.ReasonChannelNotReady), commercev1alpha1.ReasonChannelNotReady, commercev1alpha1.ReasonChannelNotReady, "", "notifying the customer: why"},
		{"window closed for good", "Accepted", valid, notified(commercev1alpha1.ReasonWindowClosed), "True", "", commercev1alpha1.ReasonWindowClosed, "phase is Accepted"},
		{"refused for good", "Shipped", valid, notified(commercev1alpha1.ReasonSendFailed), "True", "", commercev1alpha1.ReasonSendFailed, "phase is Shipped"},
		{"invalid cart", commercev1alpha1.OrderPhaseInvalid, invalid, notified(commercev1alpha1.ReasonInvalidCart), commercev1alpha1.ReasonInvalidCart, "", commercev1alpha1.ReasonInvalidCart, "XYZ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var blocked *metav1.Condition
			if tc.validated.Status != metav1.ConditionTrue {
				blocked = cartBlocks(tc.validated)
			}
			checkConditions(t, readiness(string(tc.phase), orderKind.doing, tc.notified, blocked), tc.ready, tc.readyMessage, tc.reconciling, tc.stalled)
		})
	}
}

// checkConditions checks Ready ("True", or the reason of Ready=False) and its
// message, and the reasons of Reconciling and Stalled ("" for absent).
func checkConditions(t *testing.T, conds []metav1.Condition, ready, readyMessage, reconciling, stalled string) {
	t.Helper()
	r := meta.FindStatusCondition(conds, commercev1alpha1.ConditionReady)
	switch {
	case r == nil:
		t.Fatalf("no Ready in %+v", conds)
	case ready == "True" && (r.Status != metav1.ConditionTrue || r.Reason != commercev1alpha1.ReasonUpToDate),
		ready != "True" && (r.Status != metav1.ConditionFalse || r.Reason != ready):
		t.Errorf("Ready %s %s, want %s", r.Status, r.Reason, ready)
	}
	if r != nil && r.Message != readyMessage {
		t.Errorf("Ready message %q, want %q", r.Message, readyMessage)
	}
	for typ, want := range map[string]string{commercev1alpha1.ConditionReconciling: reconciling, commercev1alpha1.ConditionStalled: stalled} {
		c := meta.FindStatusCondition(conds, typ)
		switch {
		case want == "" && c != nil:
			t.Errorf("%s present (%s), want absent", typ, c.Reason)
		case want != "" && (c == nil || c.Status != metav1.ConditionTrue || c.Reason != want):
			t.Errorf("%s = %+v, want True %s", typ, c, want)
		}
	}
}

func TestValidationReasonsAreTheAPIs(t *testing.T) {
	for _, tc := range []struct {
		item commercev1alpha1.OrderItem
		want string
	}{
		{commercev1alpha1.OrderItem{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "XYZ"}, commercev1alpha1.ReasonUnknownCurrency},
		{commercev1alpha1.OrderItem{ProductRetailerID: "a", Quantity: 0, ItemPrice: "1", Currency: "USD"}, commercev1alpha1.ReasonInvalidQuantity},
		{commercev1alpha1.OrderItem{ProductRetailerID: "a", Quantity: 1, ItemPrice: "-1", Currency: "USD"}, commercev1alpha1.ReasonInvalidPrice},
		{commercev1alpha1.OrderItem{ProductRetailerID: "", Quantity: 1, ItemPrice: "1", Currency: "USD"}, commercev1alpha1.ReasonInvalidProductRetailerID},
	} {
		phase, _, validated := validation(testOrder(commercev1alpha1.OrderAccepted, tc.item))
		if phase != commercev1alpha1.OrderPhaseInvalid || validated.Status != metav1.ConditionFalse || validated.Reason != tc.want {
			t.Errorf("%+v: phase %s, Validated %s %s, want Invalid, False %s", tc.item, phase, validated.Status, validated.Reason, tc.want)
		}
	}
	phase, sum, validated := validation(testOrder(commercev1alpha1.OrderShipped))
	if phase != "Shipped" || sum.Total != "15.98" || validated.Reason != commercev1alpha1.ReasonCartValid {
		t.Errorf("a valid cart: phase %s, total %s, Validated %s", phase, sum.Total, validated.Reason)
	}
}

// After a write conflict the status is applied to a re-read order, whose
// generation may be newer than the one this pass reconciled: the status must
// still claim the generation read, not the re-read one.
func TestOrderStatusClaimsTheGenerationRead(t *testing.T) {
	read := testOrder(commercev1alpha1.OrderAccepted)
	s := &orderScope{pass: &pass[*commercev1alpha1.WhatsAppOrder]{obj: read, generation: read.Generation, now: received}}
	s.validate()

	reread := read.DeepCopy()
	reread.Generation = 2 // spec.state moved on while this pass ran
	reread.Spec.State = commercev1alpha1.OrderShipped
	statusOf(orderKind, s, read)(reread)
	claimsGeneration(t, 1, reread.Status.ObservedGeneration, reread.Status.Conditions)
}

func TestRetention(t *testing.T) {
	hour := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{Retention: &metav1.Duration{Duration: time.Hour}}}
	unset := &commercev1alpha1.WhatsAppChannel{}
	finished := &metav1.Time{Time: received}
	for _, tc := range []struct {
		name        string
		finishedAt  *metav1.Time
		ch          *commercev1alpha1.WhatsAppChannel
		archiving   bool
		now         time.Time
		wantKeep    time.Duration
		wantExpired bool
	}{
		{"unfinished is kept", nil, hour, true, received.Add(100 * time.Hour), 0, false},
		{"within the channel's retention", finished, hour, false, received.Add(30 * time.Minute), 30 * time.Minute, false},
		{"at its end", finished, hour, false, received.Add(time.Hour), 0, true},
		{"at its end, with an archive", finished, hour, true, received.Add(time.Hour), 0, true},
		{"no retention set, no archive: kept for good", finished, unset, false, received.Add(365 * 24 * time.Hour), 0, false},
		{"no retention set, an archive: the default", finished, unset, true, received.Add(time.Hour), commercev1alpha1.DefaultRetention - time.Hour, false},
		{"no retention set, an archive: the default's end", finished, unset, true, received.Add(commercev1alpha1.DefaultRetention), 0, true},
		{"channel gone, no archive: kept for good", finished, nil, false, received.Add(365 * 24 * time.Hour), 0, false},
		{"channel gone, an archive: the default", finished, nil, true, received.Add(time.Hour), commercev1alpha1.DefaultRetention - time.Hour, false},
	} {
		keep, expired := retention(tc.finishedAt, tc.ch, tc.now, tc.archiving)
		if keep != tc.wantKeep || expired != tc.wantExpired {
			t.Errorf("%s: keep %s expired %v, want %s %v", tc.name, keep, expired, tc.wantKeep, tc.wantExpired)
		}
	}
}

func TestArchivePending(t *testing.T) {
	pending := archivePending(nil)
	down := archivePending(errors.New("FATAL: password authentication failed for user \"shop\""))
	if pending.Type != commercev1alpha1.ConditionArchived || pending.Status != metav1.ConditionFalse || pending.Reason != commercev1alpha1.ReasonArchivePending {
		t.Errorf("archivePending(nil) = %+v", pending)
	}
	if down.Reason != commercev1alpha1.ReasonArchiveUnavailable || !strings.Contains(down.Message, "password authentication failed") {
		t.Errorf("archivePending(err) = %+v; want ArchiveUnavailable saying why", down)
	}
}

func TestAfterSend(t *testing.T) {
	for _, tc := range []struct {
		res       sendResult
		wantAfter time.Duration
		wantErr   bool
	}{
		{sendResult{Reason: commercev1alpha1.ReasonRetrying, RetryAfter: 5 * time.Second}, 5 * time.Second, false},
		{sendResult{Reason: commercev1alpha1.ReasonRetrying, Message: "503"}, 0, true},
		// Waiting for the channel: its watch wakes the resource, no poll.
		{sendResult{Reason: commercev1alpha1.ReasonChannelNotReady}, 0, false},
		// A Secret without an access token is not watched: read again later.
		{sendResult{Reason: commercev1alpha1.ReasonChannelNotReady, RetryAfter: secretRetry}, secretRetry, false},
	} {
		p := &pass[*commercev1alpha1.WhatsAppOrder]{}
		p.afterSend(tc.res, "sending")
		if p.result.RequeueAfter != tc.wantAfter || (p.err != nil) != tc.wantErr {
			t.Errorf("%+v: requeue after %s, err %v; want %s, error %v", tc.res, p.result.RequeueAfter, p.err, tc.wantAfter, tc.wantErr)
		}
	}
}

func TestSetConditionsRemovesAbsentKstatusConditions(t *testing.T) {
	conds := []metav1.Condition{
		{Type: commercev1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonRetrying},
		{Type: commercev1alpha1.ConditionValidated, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonCartValid},
	}
	setConditions(&conds, 3, []metav1.Condition{{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonUpToDate}})
	if meta.FindStatusCondition(conds, commercev1alpha1.ConditionReconciling) != nil {
		t.Error("Reconciling stayed after the work was done")
	}
	if c := meta.FindStatusCondition(conds, commercev1alpha1.ConditionValidated); c == nil {
		t.Error("a condition this pass did not decide was removed")
	}
	if c := meta.FindStatusCondition(conds, commercev1alpha1.ConditionReady); c == nil || c.ObservedGeneration != 3 {
		t.Errorf("Ready = %+v, want it stamped with generation 3", c)
	}
}

// claimsGeneration checks that a status and each of its conditions claim the
// generation want: the one the pass read.
func claimsGeneration(t *testing.T, want, observed int64, conds []metav1.Condition) {
	t.Helper()
	if observed != want {
		t.Errorf("observedGeneration %d, want %d: a later generation was never reconciled", observed, want)
	}
	for _, c := range conds {
		if c.ObservedGeneration != want {
			t.Errorf("condition %s claims generation %d, want %d", c.Type, c.ObservedGeneration, want)
		}
	}
}
