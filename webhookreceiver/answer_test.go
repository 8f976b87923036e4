package webhookreceiver

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Every verdict has an answer, and every "send again later" says when: an
// answer WhatsApp would not retry, or would retry at once, loses or floods.
func TestEveryVerdictHasAnAnswer(t *testing.T) {
	for v := verdictStored; v <= verdictBusy; v++ {
		a, ok := answers[v]
		if !ok || http.StatusText(a.code) == "" {
			t.Errorf("verdict %d has no answer", v)
			continue
		}
		if (a.code == http.StatusServiceUnavailable) != (a.retryAfter > 0) {
			t.Errorf("verdict %d answers %d with Retry-After %s", v, a.code, a.retryAfter)
		}
		rec := httptest.NewRecorder()
		response{verdict: v, err: "e"}.write(rec)
		if rec.Code != a.code || (a.retryAfter > 0) != (rec.Header().Get("Retry-After") != "") {
			t.Errorf("verdict %d wrote %d, Retry-After %q", v, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
}

func TestReportVerdict(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  report
		want verdict
	}{
		{"all stored", report{Created: 1, Duplicates: 2, Updated: 1, Unchanged: 1, Ignored: 1, OtherNumber: 1, Unmatched: 1}, verdictStored},
		{"nothing in it", report{}, verdictStored},
		// Retrying could never store it: it is kept, and the body acknowledged.
		{"one never storable", report{Created: 1, Refused: []refusal{{Path: "p", Reason: "r", ConfigMap: "c"}}}, verdictStored},
		// WhatsApp must send the body again for the failed element, even though
		// another one can never be stored.
		{"one failed, one never storable", report{Failed: 1, Refused: []refusal{{Path: "p", Reason: "r", ConfigMap: "c"}}}, verdictSomeFailed},
		{"a status whose record is not visible yet", report{Updated: 3, NotYetRecorded: 1}, verdictSomeFailed},
		{"time up before every element was tried", report{Created: 2, PastDeadline: 1}, verdictSomeFailed},
	} {
		if got := tc.rep.verdict(); got != tc.want {
			t.Errorf("%s: verdict %d, want %d", tc.name, got, tc.want)
		}
	}
}
