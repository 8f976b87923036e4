package fakewhatsapp

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

var appSecret = []byte("app-secret")

// timestampField finds the one timestamp in a single-status body.
var timestampField = regexp.MustCompile(`"timestamp":"([0-9]+)"`)

// withoutTimestamp replaces the timestamp so a body can be compared exactly.
func withoutTimestamp(t *testing.T, body []byte) string {
	t.Helper()
	if !timestampField.Match(body) {
		t.Fatalf("no string timestamp in %s", body)
	}
	return timestampField.ReplaceAllString(string(body), `"timestamp":"TS"`)
}

func TestPostStatusesBodies(t *testing.T) {
	tests := []struct {
		name   string
		gen    whatsapp.Generation
		status string
		want   string
	}{
		{
			name: "cloud sent", gen: whatsapp.Cloud, status: "sent",
			want: `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.X+/=","status":"sent","timestamp":"TS","recipient_id":"16505551234"}]},"field":"messages"}]}]}`,
		},
		{
			name: "cloud failed", gen: whatsapp.Cloud, status: "failed",
			want: `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.X+/=","status":"failed","timestamp":"TS","recipient_id":"16505551234","errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message","error_data":{"details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]}]},"field":"messages"}]}]}`,
		},
		{
			name: "on-premises delivered", gen: whatsapp.OnPremises, status: "delivered",
			want: `{"statuses":[{"id":"wamid.X+/=","status":"delivered","timestamp":"TS","recipient_id":"16505551234"}]}`,
		},
		{
			name: "on-premises failed", gen: whatsapp.OnPremises, status: "failed",
			want: `{"statuses":[{"id":"wamid.X+/=","status":"failed","timestamp":"TS","recipient_id":"16505551234","errors":[{"code":470,"title":"Failed to send message because you are outside the support window for freeform messages to this user. Please use a valid HSM notification or reconsider."}]}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, srv := startReceiver(t, appSecret)
			s := startFake(t, Options{PhoneNumberID: testPhoneID})
			if err := s.PostStatuses(t.Context(), srv.URL, appSecret, tt.gen, "wamid.X+/=", customer, []string{tt.status}, false); err != nil {
				t.Fatalf("PostStatuses: %v", err)
			}
			got := rc.all()
			if len(got) != 1 {
				t.Fatalf("receiver got %d webhooks, want 1", len(got))
			}
			if body := withoutTimestamp(t, got[0].body); body != tt.want {
				t.Errorf("body:\n got %s\nwant %s", body, tt.want)
			}
			if got[0].signature != hubsignature.Sign(appSecret, got[0].body) {
				t.Errorf("signature %q does not sign the body", got[0].signature)
			}
		})
	}
}

func TestPostStatusesUsesTheSendersPhoneNumber(t *testing.T) {
	rc, srv := startReceiver(t, appSecret)
	s := startFake(t, Options{PhoneNumberID: "999"})
	id, err := cloudClient(t, s, "any").SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PostStatuses(t.Context(), srv.URL, appSecret, whatsapp.Cloud, id, customer, []string{"read"}, false); err != nil {
		t.Fatal(err)
	}
	if body := string(rc.all()[0].body); !strings.Contains(body, `"phone_number_id":"`+testPhoneID+`"`) {
		t.Fatalf("body %s does not name the sending phone number %s", body, testPhoneID)
	}
}

func TestPostStatusesUnsigned(t *testing.T) {
	rc, srv := startReceiver(t, nil)
	s := startFake(t, Options{})
	if err := s.PostStatuses(t.Context(), srv.URL, nil, whatsapp.OnPremises, "ABGG", customer, []string{"sent", "deleted"}, false); err != nil {
		t.Fatal(err)
	}
	for _, d := range rc.all() {
		if d.signature != "" {
			t.Fatalf("unsigned post carried %s: %q", hubsignature.Header, d.signature)
		}
	}
}

func TestPostStatusesShuffleKeepsTimestampsInOrder(t *testing.T) {
	statuses := []string{"sent", "delivered", "read", "failed", "played"}
	s := startFake(t, Options{PhoneNumberID: testPhoneID})
	// An unshuffled arrival order has a chance of 1/120 per attempt.
	for attempt := range 20 {
		rc, srv := startReceiver(t, appSecret)
		if err := s.PostStatuses(t.Context(), srv.URL, appSecret, whatsapp.Cloud, "wamid.A", customer, statuses, true); err != nil {
			t.Fatal(err)
		}
		var arrived []string
		stamps := map[string]int64{}
		for _, d := range rc.all() {
			st := statusesOf(t, d.body)[0]
			arrived = append(arrived, st.Status)
			stamps[st.Status], _ = strconv.ParseInt(st.Timestamp, 10, 64)
		}
		if len(stamps) != len(statuses) {
			t.Fatalf("arrived %v, want each of %v once", arrived, statuses)
		}
		for i := 1; i < len(statuses); i++ {
			if stamps[statuses[i]] <= stamps[statuses[i-1]] {
				t.Fatalf("timestamps %v do not increase in the given order %v", stamps, statuses)
			}
		}
		if !slices.Equal(arrived, statuses) {
			return // shuffled, as asked
		}
		t.Logf("attempt %d arrived in order; trying again", attempt)
	}
	t.Fatal("shuffle never changed the arrival order")
}

func TestPostStatusesStopsAtRefusal(t *testing.T) {
	t.Run("wrong secret", func(t *testing.T) {
		rc, srv := startReceiver(t, appSecret)
		s := startFake(t, Options{PhoneNumberID: testPhoneID})
		err := s.PostStatuses(t.Context(), srv.URL, []byte("wrong"), whatsapp.Cloud, "wamid.A", customer, []string{"sent", "read"}, false)
		if err == nil || !strings.Contains(err.Error(), `"sent"`) || !strings.Contains(err.Error(), "401") {
			t.Fatalf("err = %v, want a 401 naming the sent status", err)
		}
		if n := len(rc.all()); n != 0 {
			t.Fatalf("receiver accepted %d badly signed webhooks", n)
		}
	})
	t.Run("server error", func(t *testing.T) {
		rc, srv := startReceiver(t, nil)
		rc.refuseWith(503)
		s := startFake(t, Options{})
		err := s.PostStatuses(t.Context(), srv.URL, nil, whatsapp.OnPremises, "ABGG", customer, []string{"delivered", "read"}, false)
		if err == nil || !strings.Contains(err.Error(), `"delivered"`) || !strings.Contains(err.Error(), "503") {
			t.Fatalf("err = %v, want a 503 naming the delivered status", err)
		}
		if n := len(rc.all()); n != 1 {
			t.Fatalf("receiver saw %d posts, want 1: posting must stop at the first refusal", n)
		}
	})
}

func TestPostStatusesRejectsBadInput(t *testing.T) {
	rc, srv := startReceiver(t, nil)
	s := startFake(t, Options{})
	tests := map[string]func() error{
		"cloud id the fake did not send, no default phone id": func() error {
			return s.PostStatuses(t.Context(), srv.URL, nil, whatsapp.Cloud, "wamid.A", customer, []string{"sent"}, false)
		},
		"on-premises has no played": func() error {
			return s.PostStatuses(t.Context(), srv.URL, nil, whatsapp.OnPremises, "A", customer, []string{"sent", "played"}, false)
		},
		"unknown generation": func() error {
			return s.PostStatuses(t.Context(), srv.URL, nil, "Beta", "A", customer, []string{"sent"}, false)
		},
		"no statuses": func() error {
			return s.PostStatuses(t.Context(), srv.URL, nil, whatsapp.OnPremises, "A", customer, nil, false)
		},
		"no recipient": func() error {
			return s.PostStatuses(t.Context(), srv.URL, nil, whatsapp.OnPremises, "A", "", []string{"sent"}, false)
		},
		"no URL": func() error {
			return s.PostStatuses(t.Context(), "", nil, whatsapp.OnPremises, "A", customer, []string{"sent"}, false)
		},
	}
	for name, post := range tests {
		if err := post(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := len(rc.all()); n != 0 {
		t.Fatalf("receiver got %d webhooks from rejected calls", n)
	}
}

func TestAutoStatus(t *testing.T) {
	rc, srv := startReceiver(t, appSecret)
	s := startFake(t, Options{WebhookURL: srv.URL, AppSecret: appSecret, AutoStatus: true})
	id, err := cloudClient(t, s, "any").SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi")
	if err != nil {
		t.Fatal(err)
	}
	rc.await(t, 3)
	var got []string
	for _, d := range rc.all() {
		st := statusesOf(t, d.body)[0]
		if st.ID != id || st.RecipientID != customer {
			t.Fatalf("status %+v is not about %s to %s", st, id, customer)
		}
		got = append(got, st.Status)
	}
	if !slices.Equal(got, autoStatuses) {
		t.Fatalf("statuses arrived as %v, want %v", got, autoStatuses)
	}
}

func TestCloseStopsPendingAutoStatus(t *testing.T) {
	rc, srv := startReceiver(t, appSecret)
	s := New(Options{WebhookURL: srv.URL, AppSecret: appSecret, AutoStatus: true, StatusDelay: time.Hour})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := onPremClient(t, s, "any").SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Close took %v waiting for delayed statuses", took)
	}
	if n := len(rc.all()); n != 0 {
		t.Fatalf("%d statuses were posted after Close", n)
	}
	if err := s.Start(); err == nil {
		t.Fatal("Start after Close succeeded")
	}
}

// Statuses about a send echo its callback data and say what it costs; a
// delivery failed later reports its code and no price.
func TestAutoStatusEchoesCallbackDataAndPricing(t *testing.T) {
	rc, srv := startReceiver(t, appSecret)
	s := startFake(t, Options{WebhookURL: srv.URL, AppSecret: appSecret, AutoStatus: true})
	c := cloudClient(t, s, "any")
	to := whatsapp.Send{To: whatsapp.Recipient{UserID: "US.13491208655302741918"}, CallbackData: "wco1|WhatsAppOrder|shop|o-1|Accepted"}
	textID, err := c.SendText(t.Context(), to, "hi")
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.FailDeliveryNext(131026, 1))
	tmplID, err := c.SendTemplate(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}, CallbackData: "cb-2"}, whatsapp.TemplateRef{Name: "order_update", Language: "en_US"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc.await(t, 4)
	for _, d := range rc.all() {
		st := statusesOf(t, d.body)[0]
		switch st.ID {
		case textID:
			if st.RecipientID != "" || st.RecipientUserID != "US.13491208655302741918" || st.CallbackData != to.CallbackData || st.Pricing == nil || st.Pricing.Category != "service" {
				t.Errorf("status of the text to a user id: %+v", st)
			}
		case tmplID:
			if st.Status != "failed" || len(st.Errors) != 1 || st.Errors[0].Code != 131026 || st.CallbackData != "cb-2" || st.Pricing != nil {
				t.Errorf("status of the template failed later: %+v", st)
			}
		default:
			t.Errorf("status about an unknown message %+v", st)
		}
	}
	if err := s.FailDeliveryNext(42, 1); err == nil {
		t.Error("an unknown delivery error code was accepted")
	}
}
