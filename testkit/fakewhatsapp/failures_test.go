package fakewhatsapp

import (
	"errors"
	"testing"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

func TestInjectedFailuresAsTheClientSeesThem(t *testing.T) {
	tests := []struct {
		mode       FailureMode
		onPrem     bool
		class      whatsapp.Class
		status     int
		code       int64
		retryAfter time.Duration
	}{
		{mode: FailWindowClosed, class: whatsapp.WindowClosed, status: 400, code: 131047},
		{mode: FailWindowClosed, onPrem: true, class: whatsapp.WindowClosed, status: 400, code: 470},
		{mode: FailRateLimited, class: whatsapp.RateLimited, status: 429, code: 130429, retryAfter: time.Second},
		{mode: FailRateLimited, onPrem: true, class: whatsapp.RateLimited, status: 429, code: 1015, retryAfter: time.Second},
		{mode: FailServerError, class: whatsapp.Transient, status: 500, code: 131000},
		{mode: FailServerError, onPrem: true, class: whatsapp.Transient, status: 500, code: 1014},
		{mode: FailPermanent, class: whatsapp.Permanent, status: 400, code: 100},
		{mode: FailPermanent, onPrem: true, class: whatsapp.Permanent, status: 400, code: 1009},
	}
	for _, tt := range tests {
		name := string(tt.mode) + "/cloud"
		if tt.onPrem {
			name = string(tt.mode) + "/on-premises"
		}
		t.Run(name, func(t *testing.T) {
			s := startFake(t, Options{})
			c := cloudClient(t, s, "any")
			if tt.onPrem {
				c = onPremClient(t, s, "any")
			}
			if err := s.FailNext(tt.mode, 1); err != nil {
				t.Fatal(err)
			}
			_, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi")
			e, ok := errors.AsType[*whatsapp.Error](err)
			if !ok {
				t.Fatalf("err = %v, want *whatsapp.Error", err)
			}
			if e.Class != tt.class || e.HTTPStatus != tt.status || e.Code != tt.code || e.RetryAfter != tt.retryAfter {
				t.Fatalf("got %s/%d/%d/%v, want %s/%d/%d/%v (%v)", e.Class, e.HTTPStatus, e.Code, e.RetryAfter, tt.class, tt.status, tt.code, tt.retryAfter, err)
			}
			if len(s.Sent()) != 0 {
				t.Fatal("a refused send was recorded")
			}
			if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); err != nil {
				t.Fatalf("the send after the injected failure: %v", err)
			}
		})
	}
}

func TestFailNextCountsDown(t *testing.T) {
	s := startFake(t, Options{})
	c := cloudClient(t, s, "any")
	if err := s.FailNext(FailServerError, 2); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); whatsapp.ClassOf(err) != whatsapp.Transient {
			t.Fatalf("send %d: err = %v, want Transient", i, err)
		}
	}
	if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); err != nil {
		t.Fatalf("third send: %v", err)
	}
}

func TestFailSequenceFailsOneSendEach(t *testing.T) {
	s := startFake(t, Options{})
	c := cloudClient(t, s, "any")
	if err := s.FailSequence(FailWindowClosed, FailRateLimited, FailServerError); err != nil {
		t.Fatal(err)
	}
	for i, want := range []whatsapp.Class{whatsapp.WindowClosed, whatsapp.RateLimited, whatsapp.Transient} {
		if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); whatsapp.ClassOf(err) != want {
			t.Fatalf("send %d: err = %v, want %s", i, err, want)
		}
	}
	if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); err != nil {
		t.Fatalf("the send after the sequence: %v", err)
	}
	if err := s.FailSequence(); err == nil {
		t.Error("an empty sequence was accepted")
	}
	if err := s.FailSequence(FailServerError, "sometimes"); err == nil {
		t.Error("an unknown mode was accepted")
	}
}

func TestFailAlwaysUntilReset(t *testing.T) {
	s := startFake(t, Options{})
	c := cloudClient(t, s, "any")
	if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "before"); err != nil {
		t.Fatal(err)
	}
	if err := s.FailAlways(FailWindowClosed); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); whatsapp.ClassOf(err) != whatsapp.WindowClosed {
			t.Fatalf("err = %v, want WindowClosed", err)
		}
	}
	// Templates are refused too: the fake fails sends, not message kinds.
	if _, err := c.SendTemplate(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, whatsapp.TemplateRef{Name: "hello_world", Language: "en_US"}, nil); whatsapp.ClassOf(err) != whatsapp.WindowClosed {
		t.Fatalf("template err = %v, want WindowClosed", err)
	}
	s.Reset()
	if n := len(s.Sent()); n != 0 {
		t.Fatalf("Reset kept %d sends", n)
	}
	if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "after"); err != nil {
		t.Fatalf("send after Reset: %v", err)
	}
}

func TestFailureSettingsAreChecked(t *testing.T) {
	s := New(Options{})
	if err := s.FailNext("flaky", 1); err == nil {
		t.Error("FailNext accepted an unknown mode")
	}
	if err := s.FailAlways(""); err == nil {
		t.Error("FailAlways accepted an empty mode")
	}
	if err := s.FailNext(FailPermanent, 0); err == nil {
		t.Error("FailNext accepted a count of 0")
	}
}
