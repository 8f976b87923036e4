package operator

import (
	"time"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
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
// outlasts the shutdown. Beside them, IntentTimeout (commercev1alpha1, 12 min)
// is far above a send and a reconcile: an intent waits for WhatsApp's status
// that long before its message is sent again, longer than the receiver's
// RecordWait (webhookreceiver, 10 min), during which a status whose record is
// not visible yet is refused for WhatsApp to resend:
//
//	GracefulShutdownTimeout < RecordWait < IntentTimeout < DefaultPaymentLookupAfter
//	  20 s                      10 min       12 min          15 min
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
// rely on webhooks alone). It is far above IntentTimeout: WhatsApp reports a
// payment within seconds of the customer paying, and a lookup is an API call
// per unpaid order.
const DefaultPaymentLookupAfter = 15 * time.Minute

// The order stated above, checked by the compiler: a constant conversion of
// a negative difference to uint64 does not build.
const (
	_ = uint64(ReconcileTimeout - SendTimeout - 1)
	_ = uint64(GracefulShutdownTimeout - ReconcileTimeout - 1)
	_ = uint64(commercev1alpha1.IntentTimeout - GracefulShutdownTimeout - 1)
	_ = uint64(commercev1alpha1.IntentTimeout - webhookreceiver.RecordWait - 1)
	_ = uint64(DefaultPaymentLookupAfter - commercev1alpha1.IntentTimeout - 1)
)
