package fakewhatsapp

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// TestSentBeforeAnswer: the sent status reaches the receiver before the send
// returns, and refused, it is posted again until taken.
func TestSentBeforeAnswer(t *testing.T) {
	rc, srv := startReceiver(t, appSecret)
	rc.refuseWith(http.StatusServiceUnavailable)
	s := startFake(t, Options{WebhookURL: srv.URL, AppSecret: appSecret, SentBeforeAnswer: true, RedeliveryDelay: 10 * time.Millisecond})
	id, err := cloudClient(t, s, "any").SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}, CallbackData: "cb"}, "hi")
	if err != nil {
		t.Fatal(err)
	}
	got := rc.all()
	if len(got) == 0 {
		t.Fatal("the send returned before its sent status was posted")
	}
	if st := statusesOf(t, got[0].body)[0]; st.ID != id || st.Status != "sent" {
		t.Fatalf("first webhook %+v, want sent about %s", st, id)
	}
	// Refused at least once more, then taken.
	<-rc.arrived
	<-rc.arrived
	rc.refuseWith(0)
	deadline := time.Now().Add(5 * time.Second)
	for {
		early := s.EarlyStatuses()
		if n := len(early); n > 0 && early[n-1].Accepted {
			if early[0].Accepted || early[0].Answer == "" {
				t.Fatalf("early statuses %+v, want the first refused with its answer", early)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the refused sent status was not taken in the end: %+v", early)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, d := range rc.all() {
		if st := statusesOf(t, d.body)[0]; st.ID != id || st.Status != "sent" {
			t.Fatalf("webhook %+v, want only the sent status of %s", st, id)
		}
	}
}

// TestSentBeforeAnswerWithAutoStatus: sent is not posted twice; delivered
// and read follow.
func TestSentBeforeAnswerWithAutoStatus(t *testing.T) {
	rc, srv := startReceiver(t, appSecret)
	s := startFake(t, Options{WebhookURL: srv.URL, AppSecret: appSecret, SentBeforeAnswer: true, AutoStatus: true})
	if _, err := cloudClient(t, s, "any").SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); err != nil {
		t.Fatal(err)
	}
	rc.await(t, 3)
	var got []string
	for _, d := range rc.all() {
		got = append(got, statusesOf(t, d.body)[0].Status)
	}
	if want := []string{"sent", "delivered", "read"}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
}
