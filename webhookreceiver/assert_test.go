package webhookreceiver_test

import (
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/diff"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
)

func assertEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("%s differs (-want +got):\n%s", what, diff.Diff(want, got))
	}
}

func sign(body []byte) string { return signWith(appSecret, body) }

func signWith(secret string, body []byte) string {
	return hubsignature.Sign([]byte(secret), body)
}

// eventsv1List wraps the events.k8s.io list the recorders write to.
type eventsv1List struct{ eventsv1.EventList }
