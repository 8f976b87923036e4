package operator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// An intent timeout that a status the receiver asks WhatsApp to resend, or
// sheds, could outlast is refused at start, saying why; one above it starts.
func TestAnIntentTimeoutWithinTheReceiversWaitIsRefused(t *testing.T) {
	for _, d := range []time.Duration{-time.Minute, 2 * time.Minute, webhookreceiver.RecordWait, operator.MinIntentTimeout} {
		_, err := operator.New(env.Config, operator.Options{IntentTimeout: d})
		if err == nil || !strings.Contains(err.Error(), "intent timeout "+d.String()) || !strings.Contains(err.Error(), operator.MinIntentTimeout.String()) {
			t.Errorf("IntentTimeout %s: %v, want a refusal naming it and %s", d, err, operator.MinIntentTimeout)
		}
	}
	if _, err := operator.New(env.Config, operator.Options{IntentTimeout: operator.MinIntentTimeout + time.Second}); err != nil {
		t.Errorf("IntentTimeout %s: %v", operator.MinIntentTimeout+time.Second, err)
	}
}

// A record may wait in memory only so long: a delay out of bounds is refused
// at start, saying the bound; zero (at once) and the bound itself start.
func TestARecordDelayOutOfBoundsIsRefused(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, operator.MaxRecordDelay + time.Second} {
		_, err := operator.New(env.Config, operator.Options{RecordDelay: d})
		if err == nil || !strings.Contains(err.Error(), "record delay "+d.String()) || !strings.Contains(err.Error(), operator.MaxRecordDelay.String()) {
			t.Errorf("RecordDelay %s: %v, want a refusal naming it and %s", d, err, operator.MaxRecordDelay)
		}
	}
	for _, d := range []time.Duration{0, operator.MaxRecordDelay} {
		if _, err := operator.New(env.Config, operator.Options{RecordDelay: d}); err != nil {
			t.Errorf("RecordDelay %s: %v", d, err)
		}
	}
}
