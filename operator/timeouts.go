package operator

import (
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// The timeouts that must nest, in one place, from the innermost out:
//
//	SendTimeout < ReconcileTimeout < GracefulShutdownTimeout < terminationGracePeriodSeconds - preStop
//	  15 s           18 s               20 s                      30 s - 5 s
//
// A send to WhatsApp ends before the reconcile that makes it, so the reconcile
// still records its outcome; a reconcile of a resource that messages customers
// is not cancelled by a shutdown (a message sent but not recorded would be sent
// again by the next leader), so the graceful shutdown outlasts it; and the pod
// outlasts the shutdown. Beside them, the intent timeout (--intent-timeout,
// 12 min by default) is far above a send and a reconcile: an intent waits for
// WhatsApp's status that long before its message is sent again, longer than
// the receiver's RecordWait (webhookreceiver, 10 min), during which a status
// whose record is not visible yet is refused for WhatsApp to resend, plus the
// Retry-After of a status the receiver shed (RetryBusy, 5 s); New refuses a
// timeout not above MinIntentTimeout:
//
//	GracefulShutdownTimeout < RecordWait + RetryBusy < DefaultIntentTimeout < DefaultPaymentLookupAfter
//	  20 s                      10 min 5 s               12 min                 15 min
//
// The receiver answers every webhook within its own 5 s (webhookreceiver), on
// every replica, apart from these.
const (
	// SendTimeout bounds one request to WhatsApp, retries of the HTTP client
	// included.
	SendTimeout = 15 * time.Second
	// ReconcileTimeout bounds a reconcile that a shutdown no longer cancels.
	ReconcileTimeout = 18 * time.Second
	// GracefulShutdownTimeout is how long a stopping operator waits for its
	// parts: within the pod's terminationGracePeriodSeconds (30) once its
	// preStop pause (5) is over.
	GracefulShutdownTimeout = 20 * time.Second
)

// DefaultPaymentLookupAfter is how long a bill waits for a final payment
// status on the webhook before the order controller asks WhatsApp's payment
// lookup, and then how long between lookups (Meta asks businesses not to
// rely on webhooks alone). It is above DefaultIntentTimeout: WhatsApp reports a
// payment within seconds of the customer paying, and a lookup is an API call
// per unpaid order.
const DefaultPaymentLookupAfter = 15 * time.Minute

// DefaultIntentTimeout is how long an intent (a SentMessage with callbackData
// and no messageID: a send whose outcome is unknown) waits for a status
// webhook naming it before its message is sent again, counted from the later
// of its sentAt and when the leader first saw it (controllers/intent.go), so
// that a leader whose clock runs ahead does not cut it short. WhatsApp posts
// "sent" within seconds of accepting a message, but a receiver that sheds
// load answers 503 and Meta retries with growing delays: twelve minutes
// outlasts Meta's early retries and MinIntentTimeout, so a status that comes
// at all comes before the resend. A customer whose message WhatsApp did not
// take waits that long for it, and up to that long again from the start of a
// leader that took over meanwhile.
const DefaultIntentTimeout = 12 * time.Minute

// MinIntentTimeout is what an intent timeout must be longer than: the
// receiver's RecordWait, for which it asks WhatsApp to resend a status whose
// record is not visible yet, plus the Retry-After it sheds a status with.
const MinIntentTimeout = webhookreceiver.RecordWait + webhookreceiver.RetryBusy

// The order stated above, checked by the compiler: a constant conversion of
// a negative difference to uint64 does not build.
const (
	_ = uint64(ReconcileTimeout - SendTimeout - 1)
	_ = uint64(GracefulShutdownTimeout - ReconcileTimeout - 1)
	_ = uint64(MinIntentTimeout - GracefulShutdownTimeout - 1)
	_ = uint64(DefaultIntentTimeout - MinIntentTimeout - 1)
	_ = uint64(DefaultPaymentLookupAfter - DefaultIntentTimeout - 1)
)
