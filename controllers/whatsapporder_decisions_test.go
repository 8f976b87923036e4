package controllers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
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

func TestOrderMessageInsideAndOutsideTheWindow(t *testing.T) {
	tmpl := &commercev1alpha1.MessageTemplate{Name: "order_update", Parameters: []string{"{{.Order}}", "{{.State}}"}}
	withTemplate := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{Notifications: commercev1alpha1.NotificationSettings{Template: tmpl}}}
	bare := &commercev1alpha1.WhatsAppChannel{}
	sum := cart.Summary{ItemCount: 2, Total: "15.98", Currency: "USD"}
	for _, tc := range []struct {
		name         string
		ch           *commercev1alpha1.WhatsAppChannel
		at           time.Duration
		force        bool
		wantTemplate bool
		wantErr      error
	}{
		{"inside the window: text", withTemplate, 23 * time.Hour, false, false, nil},
		{"window closed: template", withTemplate, 24 * time.Hour, false, true, nil},
		{"forced (WhatsApp said closed): template", withTemplate, time.Hour, true, true, nil},
		{"window closed, no template: nothing", bare, 25 * time.Hour, false, false, errNoTemplate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := orderMessage(testOrder(commercev1alpha1.OrderAccepted), tc.ch, commercev1alpha1.OrderAccepted, sum, received.Add(tc.at), tc.force)
			if err != tc.wantErr {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if msg.to != "16505551234" {
				t.Errorf("to %q", msg.to)
			}
			if tc.wantTemplate {
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
	now := received.Add(time.Hour)
	for _, tc := range []struct {
		res        sendResult
		wantStatus metav1.ConditionStatus
		wantRecord bool
		wantFailed bool
	}{
		{sendResult{Reason: commercev1alpha1.ReasonSent, MessageID: "wamid.1"}, metav1.ConditionTrue, true, false},
		{sendResult{Reason: commercev1alpha1.ReasonWindowClosed, Message: "closed"}, metav1.ConditionFalse, true, true},
		{sendResult{Reason: commercev1alpha1.ReasonSendFailed, Message: "refused", Error: &commercev1alpha1.MessageError{Code: 100}}, metav1.ConditionFalse, true, true},
		{sendResult{Reason: commercev1alpha1.ReasonRetrying, Message: "rate limited"}, metav1.ConditionFalse, false, false},
		{sendResult{Reason: commercev1alpha1.ReasonChannelNotReady, Message: "no channel"}, metav1.ConditionFalse, false, false},
	} {
		cond, rec := notificationOutcome(commercev1alpha1.OrderShipped, tc.res, now)
		if cond.Type != commercev1alpha1.ConditionCustomerNotified || cond.Status != tc.wantStatus || cond.Reason != tc.res.Reason {
			t.Errorf("%s: condition %+v", tc.res.Reason, cond)
		}
		if (rec != nil) != tc.wantRecord {
			t.Errorf("%s: record %+v, want one: %v", tc.res.Reason, rec, tc.wantRecord)
			continue
		}
		if rec == nil {
			continue
		}
		if rec.State != commercev1alpha1.OrderShipped || !rec.SentAt.Time.Equal(now) || rec.MessageID != tc.res.MessageID {
			t.Errorf("%s: record %+v", tc.res.Reason, rec)
		}
		if failed := rec.DeliveryStatus == commercev1alpha1.DeliveryFailed && rec.Error != nil; failed != tc.wantFailed {
			t.Errorf("%s: record %+v, want failed with an error: %v", tc.res.Reason, rec, tc.wantFailed)
		}
	}
}

func TestOrderConditions(t *testing.T) {
	valid := metav1.Condition{Type: commercev1alpha1.ConditionValidated, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonCartValid}
	invalid := metav1.Condition{Type: commercev1alpha1.ConditionValidated, Status: metav1.ConditionFalse, Reason: commercev1alpha1.ReasonUnknownCurrency, Message: "XYZ"}
	notified := func(reason string) *metav1.Condition {
		return &metav1.Condition{Type: commercev1alpha1.ConditionCustomerNotified, Reason: reason, Message: "why"}
	}
	for _, tc := range []struct {
		name                        string
		phase                       commercev1alpha1.OrderPhase
		validated                   metav1.Condition
		notified                    *metav1.Condition
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
			checkConditions(t, orderConditions(tc.phase, tc.validated, tc.notified), tc.ready, tc.readyMessage, tc.reconciling, tc.stalled)
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
	// Every reason the cart package gives has the API's name.
	for from, to := range invalidCartReasons {
		if from != to {
			t.Errorf("cart reason %q is written as %q", from, to)
		}
	}
}

// After a write conflict the status is applied to a re-read order, whose
// generation may be newer than the one this pass reconciled: the status must
// still claim the generation read, not the re-read one.
func TestOrderStatusClaimsTheGenerationRead(t *testing.T) {
	read := testOrder(commercev1alpha1.OrderAccepted)
	s := &orderScope{order: read, generation: read.Generation, now: received}
	s.validate()
	s.conditions = orderConditions(s.phase, s.validated, s.customerNotified())

	reread := read.DeepCopy()
	reread.Generation = 2 // spec.state moved on while this pass ran
	reread.Spec.State = commercev1alpha1.OrderShipped
	s.apply(reread)
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
		res, err := afterSend(tc.res, "sending")
		if res.RequeueAfter != tc.wantAfter || (err != nil) != tc.wantErr {
			t.Errorf("%+v: requeue after %s, err %v; want %s, error %v", tc.res, res.RequeueAfter, err, tc.wantAfter, tc.wantErr)
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
