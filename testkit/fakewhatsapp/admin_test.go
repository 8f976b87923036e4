package fakewhatsapp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

func TestAdminSent(t *testing.T) {
	s := startFake(t, Options{})
	if status, body := admin(t, s, http.MethodGet, "/_fake/sent"); status != 200 || body != "[]" {
		t.Fatalf("GET /_fake/sent before any send = %d %q, want 200 []", status, body)
	}
	id, err := cloudClient(t, s, "any").SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}, ReplyTo: "wamid.Q"}, "hello")
	if err != nil {
		t.Fatal(err)
	}
	status, body := admin(t, s, http.MethodGet, "/_fake/sent")
	var sent []map[string]any
	if err := json.Unmarshal([]byte(body), &sent); status != 200 || err != nil || len(sent) != 1 {
		t.Fatalf("GET /_fake/sent = %d %s (%v), want one message", status, body, err)
	}
	want := map[string]any{"generation": "Cloud", "phoneNumberID": testPhoneID, "to": customer, "type": "text", "text": "hello", "contextMessageID": "wamid.Q", "messageID": id}
	for k, v := range want {
		if sent[0][k] != v {
			t.Errorf("%s = %v, want %v", k, sent[0][k], v)
		}
	}
	if _, ok := sent[0]["time"].(string); !ok {
		t.Errorf("time missing in %s", body)
	}
}

func TestAdminFailAndReset(t *testing.T) {
	s := startFake(t, Options{})
	c := cloudClient(t, s, "any")
	if status, body := admin(t, s, http.MethodPost, "/_fake/fail?mode=rate-limited&count=2"); status != 200 {
		t.Fatalf("fail = %d %s", status, body)
	}
	for range 2 {
		if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); whatsapp.ClassOf(err) != whatsapp.RateLimited {
			t.Fatalf("err = %v, want RateLimited", err)
		}
	}
	if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); err != nil {
		t.Fatalf("third send: %v", err)
	}

	if status, _ := admin(t, s, http.MethodPost, "/_fake/fail?mode=permanent"); status != 200 {
		t.Fatal("fail without count refused")
	}
	if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); whatsapp.ClassOf(err) != whatsapp.Permanent {
		t.Fatalf("count defaults to 1: err = %v, want Permanent", err)
	}
	if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); err != nil {
		t.Fatalf("second send after count=1: %v", err)
	}

	admin(t, s, http.MethodPost, "/_fake/fail?mode=server-error&count=all")
	for range 3 {
		if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); whatsapp.ClassOf(err) != whatsapp.Transient {
			t.Fatalf("err = %v, want Transient until reset", err)
		}
	}
	if status, _ := admin(t, s, http.MethodPost, "/_fake/reset"); status != http.StatusNoContent {
		t.Fatalf("reset = %d, want 204", status)
	}
	if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); err != nil {
		t.Fatalf("send after reset: %v", err)
	}
	if n := len(s.Sent()); n != 1 {
		t.Fatalf("after reset %d sends are recorded, want only the last one", n)
	}
}

func TestAdminRejectsBadRequests(t *testing.T) {
	s := startFake(t, Options{})
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, "/_fake/fail?mode=flaky", 400},
		{http.MethodPost, "/_fake/fail?mode=permanent&count=two", 400},
		{http.MethodPost, "/_fake/fail?mode=permanent&count=0", 400},
		{http.MethodGet, "/_fake/fail?mode=permanent", 405},
		{http.MethodPost, "/_fake/statuses?id=x", http.StatusConflict}, // no webhook configured
		{http.MethodGet, "/_fake/nothing", 404},
	}
	for _, tt := range tests {
		if status, body := admin(t, s, tt.method, tt.path); status != tt.status {
			t.Errorf("%s %s = %d %q, want %d", tt.method, tt.path, status, body, tt.status)
		}
	}
}

func TestAdminStatuses(t *testing.T) {
	rc, srv := startReceiver(t, appSecret)
	s := startFake(t, Options{WebhookURL: srv.URL, AppSecret: appSecret})
	id, err := onPremClient(t, s, "any").SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := admin(t, s, http.MethodPost, "/_fake/statuses?id="+id+"&statuses=sent,failed&shuffle=true"); status != 200 {
		t.Fatalf("statuses = %d %s", status, body)
	}
	seen := map[string]bool{}
	for _, d := range rc.all() {
		st := statusesOf(t, d.body)[0]
		if st.ID != id || (st.Status == "failed" && (len(st.Errors) != 1 || st.Errors[0].Code != 470)) {
			t.Fatalf("unexpected status %+v", st)
		}
		seen[st.Status] = true
	}
	if !seen["sent"] || !seen["failed"] || len(seen) != 2 {
		t.Fatalf("receiver saw %v, want sent and failed", seen)
	}

	if status, body := admin(t, s, http.MethodPost, "/_fake/statuses?id="+id); status != 200 || !strings.Contains(body, "3 status") {
		t.Fatalf("default statuses = %d %s, want sent, delivered, read", status, body)
	}
	for path, want := range map[string]int{
		"/_fake/statuses?id=unknown":                   404,
		"/_fake/statuses?id=" + id + "&statuses=x":     400,
		"/_fake/statuses?id=" + id + "&shuffle=maybe":  400,
		"/_fake/statuses?id=" + id + "&statuses=sent,": 400,
	} {
		if status, body := admin(t, s, http.MethodPost, path); status != want {
			t.Errorf("POST %s = %d %q, want %d", path, status, body, want)
		}
	}

	// Cloud ids contain "+", "/" and "=", so they must be query-escaped.
	cloudMsg, err := cloudClient(t, s, "any").SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := admin(t, s, http.MethodPost, "/_fake/statuses?statuses=read&id="+url.QueryEscape(cloudMsg)); status != 200 {
		t.Fatalf("statuses for a cloud id = %d %s", status, body)
	}
	last := rc.all()[len(rc.all())-1].body
	if st := statusesOf(t, last)[0]; st.ID != cloudMsg || !strings.Contains(string(last), `"phone_number_id":"`+testPhoneID+`"`) {
		t.Fatalf("cloud status webhook %s is not about %s from %s", last, cloudMsg, testPhoneID)
	}

	rc.refuseWith(500)
	if status, body := admin(t, s, http.MethodPost, "/_fake/statuses?id="+id+"&statuses=read"); status != http.StatusBadGateway || !strings.Contains(body, `"read"`) {
		t.Fatalf("refused webhook = %d %q, want 502 naming the read status", status, body)
	}
}
