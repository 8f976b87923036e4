package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/bill"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/payment"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The order's payment phase: the bill (order_details) sent once, the
// payment looked up when WhatsApp stays silent, and the Paid condition.

// billAbout is what the callback data of an order's bill says it is about.
const billAbout = "Payment"

// billStep is the payment phase's decision for one pass.
type billStep struct {
	kind stepKind
	// template: the channel's order-details template rather than the
	// interactive message (the window has closed).
	template bool
	// wait is how long the awaited intent still waits.
	wait time.Duration
	// refusal says why the order cannot be paid as asked; nothing is sent.
	refusal string
	// bill and details are what is sent.
	details whatsapp.OrderDetails
	// lookupIn is when the payment is due to be looked up: zero or less is
	// now; it is set only for a bill whose payment WhatsApp can be asked.
	lookupIn *time.Duration
}

// nextBill decides the one thing the payment phase does now: nothing (no
// payment asked, or the bill's record is settled), refuse what can never be
// paid, wait for the status of an intent left by a crash, or send the bill.
// A settled bill whose payment is not final is looked up lookupAfter after
// it was sent, and again every lookupAfter.
func nextBill(o *commercev1alpha1.WhatsAppOrder, ch *commercev1alpha1.WhatsAppChannel, phase commercev1alpha1.OrderPhase, now time.Time, intents intentClock, lookupAfter time.Duration) billStep {
	p := o.Spec.Payment
	if p == nil {
		return billStep{kind: stepNone}
	}
	st := o.Status.Payment
	switch {
	case st != nil && st.Pending():
		step := billStep{kind: stepSend}
		if wait := intents.wait(&st.SentMessage, now); wait > 0 {
			return billStep{kind: stepAwait, wait: wait}
		}
		step.details, step.template, step.refusal = billFor(o, ch, now)
		return step
	case st != nil:
		step := billStep{kind: stepNone}
		if cfg := gatewayConfiguration(p, ch); cfg != "" && st.MessageID != "" && st.SentAt != nil &&
			(st.Status == commercev1alpha1.PaymentRequested || st.Status == commercev1alpha1.PaymentPending) {
			in := st.SentAt.Add(lookupAfter).Sub(now)
			step.lookupIn = &in
		}
		return step
	}
	if why := unpayable(o, ch, phase); why != "" {
		return billStep{kind: stepNone, refusal: why}
	}
	step := billStep{kind: stepSend}
	step.details, step.template, step.refusal = billFor(o, ch, now)
	if step.refusal != "" {
		step.kind = stepNone
	}
	return step
}

// unpayable says why an order whose bill was never sent cannot be asked to
// pay at all, "" when it can.
func unpayable(o *commercev1alpha1.WhatsAppOrder, ch *commercev1alpha1.WhatsAppChannel, phase commercev1alpha1.OrderPhase) string {
	switch {
	case phase == commercev1alpha1.OrderPhaseInvalid:
		return "the cart is invalid (see Validated): nothing can be paid for it"
	case finalOrderState(o.Spec.State):
		return fmt.Sprintf("the order is %s: a final order is not asked to pay", o.Spec.State)
	case ch != nil && ch.API() != commercev1alpha1.APICloud:
		return fmt.Sprintf("channel %s uses the On-Premises API: WhatsApp takes payments on the Cloud API only", ch.Name)
	case o.Spec.Payment.Gateway != nil && gatewayConfiguration(o.Spec.Payment, ch) == "":
		return fmt.Sprintf("the gateway payment names no configuration and channel %s sets no spec.payments.configurationName", o.Spec.Channel)
	}
	return ""
}

// gatewayConfiguration is the payment configuration of a gateway payment
// (the order's, else the channel's); "" for the other methods.
func gatewayConfiguration(p *commercev1alpha1.OrderPayment, ch *commercev1alpha1.WhatsAppChannel) string {
	switch {
	case p.Gateway == nil:
		return ""
	case p.Gateway.ConfigurationName != "":
		return p.Gateway.ConfigurationName
	case ch != nil && ch.Spec.Payments != nil:
		return ch.Spec.Payments.ConfigurationName
	}
	return ""
}

// billFor is the bill of o: its exact amounts, how it is paid and whether it
// goes as the channel's template (the window has closed), or why it cannot
// be sent.
func billFor(o *commercev1alpha1.WhatsAppOrder, ch *commercev1alpha1.WhatsAppChannel, now time.Time) (whatsapp.OrderDetails, bool, string) {
	p := o.Spec.Payment
	d := whatsapp.OrderDetails{ReferenceID: bill.Reference(o.Namespace, o.Name, string(o.UID)), GoodsType: string(commercev1alpha1.GoodsPhysical)}
	var method bill.Method
	switch {
	case p.Gateway != nil:
		method = bill.Gateway
		d.Settings.Gateway = &whatsapp.GatewaySettings{ConfigurationName: gatewayConfiguration(p, ch), Provider: p.Gateway.Provider}
	case p.Pix != nil:
		method = bill.Pix
		d.Settings.Pix = &whatsapp.PixSettings{Code: p.Pix.Code, MerchantName: p.Pix.MerchantName, Key: p.Pix.Key, KeyType: p.Pix.KeyType}
	case p.Link != nil:
		method = bill.Link
		d.Settings.LinkURI = p.Link.URI
	}
	b, err := bill.Compute(bill.Request{Items: cart.OrderItems(o.Spec.Items), Method: method, Tax: p.Tax, Shipping: p.Shipping, Discount: p.Discount})
	if err != nil {
		return d, false, err.Error()
	}
	d.Bill = b
	switch {
	case p.GoodsType != "":
		d.GoodsType = string(p.GoodsType)
	case ch != nil && ch.Spec.Payments != nil && ch.Spec.Payments.GoodsType != "":
		d.GoodsType = string(ch.Spec.Payments.GoodsType)
	}
	d.Body = fmt.Sprintf("Your order %s: %s %s. Review and pay in the chat.", o.Name, exactAmount(b.Total, b.Currency), b.Currency)
	return d, windowClosed(o.Spec.ReceivedAt, now), ""
}

// billTemplate is the channel's order-details template, or nil.
func billTemplate(ch *commercev1alpha1.WhatsAppChannel) *whatsapp.TemplateRef {
	if ch == nil || ch.Spec.Payments == nil || ch.Spec.Payments.OrderDetailsTemplate == nil {
		return nil
	}
	t := templateRef(ch.Spec.Payments.OrderDetailsTemplate.Name, ch.Spec.Payments.OrderDetailsTemplate.Language, "")
	return &t
}

// cardReference is the reference of the bill whose order card the later
// states update: set once WhatsApp accepted the bill; "" while there is none
// (the customer is then told in text).
func cardReference(o *commercev1alpha1.WhatsAppOrder) string {
	if st := o.Status.Payment; st != nil && st.MessageID != "" {
		return st.ReferenceID
	}
	return ""
}

// cardStatuses are the order card's statuses of the states announced.
var cardStatuses = map[commercev1alpha1.OrderState]string{
	commercev1alpha1.OrderAccepted:  "processing",
	commercev1alpha1.OrderShipped:   "shipped",
	commercev1alpha1.OrderDelivered: "completed",
	commercev1alpha1.OrderRejected:  "canceled",
	commercev1alpha1.OrderCancelled: "canceled",
}

// cardTemplate is the channel's ORDER_STATUS template, or nil.
func cardTemplate(ch *commercev1alpha1.WhatsAppChannel) *commercev1alpha1.MessageTemplate {
	if ch == nil || ch.Spec.Payments == nil || ch.Spec.Payments.OrderStatusTemplate == nil {
		return nil
	}
	t := ch.Spec.Payments.OrderStatusTemplate
	return &commercev1alpha1.MessageTemplate{Name: t.Name, Language: t.Language}
}

// lookupReport is the payment the lookup found, in the rules' terms; its
// time is the latest transaction's, or now when WhatsApp gave none.
func lookupReport(p whatsapp.Payment, now time.Time) payment.Report {
	r := payment.Report{Status: p.Status, At: now, Currency: p.Currency, Amount: exactAmount(p.Amount, p.Currency)}
	var latest int64
	for _, t := range p.Transactions {
		at := max(t.Updated, t.Created)
		if at < latest {
			continue
		}
		latest = at
		r.TransactionID, r.Method = t.ID, t.Method.Type
		r.ErrorCode, r.ErrorReason = "", ""
		if t.Error != nil {
			r.ErrorCode, r.ErrorReason = t.Error.Code, t.Error.Reason
		}
		for _, rf := range t.Refunds {
			r.Refunds = append(r.Refunds, commercev1alpha1.PaymentRefund{ID: rf.ID, Amount: exactAmount(rf.Amount, p.Currency), Status: rf.Status})
		}
	}
	if latest > 0 {
		r.At = time.Unix(latest, 0)
	}
	return r
}

// recordedReport is the capture the business recorded for a pix or link
// bill WhatsApp accepted (spec.recordedPayment), of the bill's total; nil
// when there is none.
func recordedReport(o *commercev1alpha1.WhatsAppOrder, ch *commercev1alpha1.WhatsAppChannel) *payment.Report {
	rec, st := o.Spec.RecordedPayment, o.Status.Payment
	if rec == nil || o.Spec.Payment == nil || o.Spec.Payment.Gateway != nil || st == nil || st.MessageID == "" {
		return nil
	}
	r := payment.Report{Status: "captured", At: rec.PaidAt.Time, TransactionID: rec.TransactionID}
	if d, _, refusal := billFor(o, ch, rec.PaidAt.Time); refusal == "" {
		r.Amount, r.Currency = exactAmount(d.Bill.Total, d.Bill.Currency), d.Bill.Currency
	}
	return &r
}

// exactAmount is m as an exact decimal, "" when no decimal holds it.
func exactAmount(m whatsapp.Amount, currency string) string {
	d, ok := bill.Decimal(m)
	if !ok || d.Sign() < 0 {
		return ""
	}
	return cart.Format(d, currency)
}

// paidCondition is the Paid condition of an order asked to pay: the refusal
// or the send's failure when the bill did not go, else what the payment
// status says; refunds are counted in its message, so each one reported
// changes it (and is announced).
func paidCondition(st *commercev1alpha1.OrderPaymentStatus, failed *outcome) metav1.Condition {
	if failed != nil {
		return metav1.Condition{Type: commercev1alpha1.ConditionPaid, Status: metav1.ConditionFalse, Reason: failed.row().reason, Message: failed.message}
	}
	status, reason, msg := payment.Condition(st)
	if n := len(st.Refunds); n > 0 {
		msg += fmt.Sprintf("; %d refunds reported", n)
	}
	return metav1.Condition{Type: commercev1alpha1.ConditionPaid, Status: status, Reason: reason, Message: msg}
}

// paymentEvents are the Events of a change of Paid from before to after:
// the payment requested, captured, failed or refused, and each refund.
func paymentEvents(before, after *metav1.Condition) (eventType, reason string, ok bool) {
	if after == nil || (before != nil && before.Reason == after.Reason && before.Message == after.Message) {
		return "", "", false
	}
	switch after.Reason {
	case commercev1alpha1.ReasonPaymentCaptured:
		if before != nil && before.Reason == after.Reason {
			return corev1.EventTypeNormal, commercev1alpha1.ReasonPaymentRefunded, true
		}
		return corev1.EventTypeNormal, after.Reason, true
	case commercev1alpha1.ReasonPaymentRequested, commercev1alpha1.ReasonPaymentPending:
		if before != nil && before.Reason == after.Reason {
			return "", "", false
		}
		return corev1.EventTypeNormal, after.Reason, true
	}
	if before != nil && before.Reason == after.Reason {
		return "", "", false
	}
	return corev1.EventTypeWarning, after.Reason, true
}

// paymentNews reports whether the receiver changed what Paid says: the
// payment's status or its refunds.
func paymentNews(before, after client.Object) bool {
	b, okB := before.(*commercev1alpha1.WhatsAppOrder)
	a, okA := after.(*commercev1alpha1.WhatsAppOrder)
	if !okB || !okA || a.Status.Payment == nil {
		return false
	}
	if b.Status.Payment == nil {
		return true
	}
	pb, pa := b.Status.Payment, a.Status.Payment
	return pb.Status != pa.Status || len(pb.Refunds) != len(pa.Refunds) || pb.RefundedInFull != pa.RefundedInFull
}

// pay is the payment phase: it refuses what can never be paid, sends the
// bill once (recording its intent first) or waits for an intent's status,
// and looks up a payment WhatsApp has not reported. It reports whether the
// pass must send nothing else: a bill sent or awaited comes before the
// order cards that name it.
func (s *orderScope) pay(ctx context.Context) bool {
	s.bill = nextBill(s.obj, s.channel, s.state, s.now, s.intents, s.m.PaymentLookupAfter)
	switch {
	case s.bill.refusal != "":
		s.billFailed = outcomeFor(commercev1alpha1.ReasonPaymentNotPossible, s.bill.refusal)
		return false
	case s.bill.lookupIn != nil:
		s.lookup(ctx)
		return false
	case s.bill.kind == stepAwait:
		// The intent may be this operator's own, settled a moment ago: the
		// API server says (as for notifications).
		var fresh commercev1alpha1.WhatsAppOrder
		if s.freshRead(ctx, &fresh, "billing") && nextBill(&fresh, s.channel, s.state, s.now, s.intents, s.m.PaymentLookupAfter).kind != stepAwait {
			s.result = requeueNow()
			return true
		}
		s.result = ctrl.Result{RequeueAfter: s.bill.wait}
		return true
	case s.bill.kind == stepNone:
		if st := s.obj.Status.Payment; st != nil {
			if o := recordedOutcome(&st.SentMessage, "the bill"); o != nil && !st.Pending() {
				s.billFailed = o
			}
			s.reported = recordedReport(s.obj, s.channel)
		}
		return false
	}
	var template *whatsapp.TemplateRef
	if s.bill.template {
		if template = billTemplate(s.channel); template == nil {
			s.billFailed = outcomeFor(commercev1alpha1.ReasonWindowClosed, "the customer's 24-hour window has closed and the channel sets no spec.payments.orderDetailsTemplate: the bill was not sent")
			return false
		}
	}
	cb := callbackData(s.channel, callbackdata.Ref{Kind: "WhatsAppOrder", Namespace: s.obj.Namespace, Name: s.obj.Name, About: billAbout})
	ref := s.bill.details.ReferenceID
	if !s.claimIntent(ctx, "send the bill", cb, "", func(o *commercev1alpha1.WhatsAppOrder) (intentSlot, bool) {
		if o.Status.Payment == nil {
			return intentSlot{set: func(m commercev1alpha1.SentMessage) {
				o.Status.Payment = &commercev1alpha1.OrderPaymentStatus{ReferenceID: ref, SentMessage: m, Status: commercev1alpha1.PaymentRequested}
			}}, true
		}
		return intentSlot{current: &o.Status.Payment.SentMessage, set: func(m commercev1alpha1.SentMessage) { o.Status.Payment.SentMessage = m }}, true
	}) {
		return true
	}
	send := whatsapp.Send{To: recipient(s.obj.Spec.Customer, s.obj.Status.CustomerUserID), CallbackData: cb}
	res := s.m.Messenger.sendBill(ctx, s.channel, send, s.bill.details, template)
	if res.Reason == commercev1alpha1.ReasonWindowClosed && template == nil {
		// WhatsApp took nothing: its template, where the channel has one, is the way left.
		if template = billTemplate(s.channel); template != nil {
			res = s.m.Messenger.sendBill(ctx, s.channel, send, s.bill.details, template)
		}
	}
	s.billRecord, s.billKeep = sendRecord(res, cb, s.now)
	s.billRef = ref
	switch {
	case s.billRecord != nil && res.Reason == commercev1alpha1.ReasonSent:
		s.result = requeueNow() // the order cards of states already due
	case s.billRecord != nil:
		s.billFailed = outcomeFor(res.Reason, "WhatsApp refused the bill: "+res.Message)
	case s.billKeep:
		s.result = ctrl.Result{RequeueAfter: s.m.IntentTimeout}
	default:
		s.billFailed = outcomeFor(res.Reason, res.Message)
		s.afterSend(res, "sending the bill")
	}
	logf.FromContext(ctx).Info("bill", "reference", ref, "template", template != nil, "outcome", res.Reason, "messageID", res.MessageID)
	return true
}

// lookup asks WhatsApp's payment lookup once the bill waited long enough for
// a final payment status, and looks again as long after.
func (s *orderScope) lookup(ctx context.Context) {
	after := s.m.PaymentLookupAfter
	if wait := *s.bill.lookupIn; wait > 0 {
		s.result = ctrl.Result{RequeueAfter: wait}
		return
	}
	s.result = ctrl.Result{RequeueAfter: after}
	st := s.obj.Status.Payment
	p, found, res := s.m.Messenger.lookupPayment(ctx, s.channel, gatewayConfiguration(s.obj.Spec.Payment, s.channel), st.ReferenceID)
	log := logf.FromContext(ctx)
	switch {
	case res.Err != nil || (res.Reason != "" && res.Reason != commercev1alpha1.ReasonSent):
		log.Info("payment lookup failed", "reference", st.ReferenceID, "outcome", res.Reason, "error", res.Message)
	case found:
		r := lookupReport(p, s.now)
		s.reported = &r
		log.Info("payment lookup", "reference", st.ReferenceID, "status", p.Status)
	default:
		log.Info("payment lookup: no payment yet", "reference", st.ReferenceID)
	}
}

// applyPayment writes the payment fields the order controller owns into o:
// the bill's record, and what the lookup found, through the same rules as
// the receiver's reports.
func (s *orderScope) applyPayment(o *commercev1alpha1.WhatsAppOrder) {
	if s.billRecord != nil || s.billKeep || s.billRef != "" {
		var current *commercev1alpha1.SentMessage
		if o.Status.Payment != nil {
			current = &o.Status.Payment.SentMessage
		}
		merged, remove := settle(current, s.billRecord, s.billKeep)
		switch {
		case remove:
			o.Status.Payment = nil
		case merged != nil && o.Status.Payment == nil:
			o.Status.Payment = &commercev1alpha1.OrderPaymentStatus{ReferenceID: s.billRef, SentMessage: *merged, Status: commercev1alpha1.PaymentRequested}
		case merged != nil:
			o.Status.Payment.SentMessage = *merged
		}
	}
	if s.reported != nil && o.Status.Payment != nil {
		payment.Apply(o.Status.Payment, *s.reported)
	}
}

// paid is the Paid condition this pass writes, nil for an order asked for
// no payment; it is decided with the other conditions, before the write.
func (s *orderScope) paid() *metav1.Condition {
	if s.obj.Spec.Payment == nil {
		return nil
	}
	st := s.obj.Status.Payment
	if s.billFailed != nil || st == nil {
		failed := s.billFailed
		if failed == nil {
			failed = outcomeFor(commercev1alpha1.ReasonPaymentRequested, "sending the bill")
		}
		c := paidCondition(nil, failed)
		return &c
	}
	after := st.DeepCopy()
	if s.billRecord != nil {
		after.SentMessage = *s.billRecord
	}
	if s.reported != nil {
		payment.Apply(after, *s.reported)
	}
	c := paidCondition(after, nil)
	return &c
}

// paymentEvent announces a change of Paid.
func (s *orderScope) paymentEvent(rec events.EventRecorder, before *commercev1alpha1.WhatsAppOrder) {
	after := s.paidCond
	if eventType, reason, ok := paymentEvents(meta.FindStatusCondition(before.Status.Conditions, commercev1alpha1.ConditionPaid), after); ok {
		rec.Eventf(s.obj, nil, eventType, reason, "Pay", "%s", after.Message)
	}
}
