package fakewhatsapp

import (
	"fmt"
	"net/http"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// FailureMode is a way the fake can refuse sends, one per error class the
// client distinguishes.
type FailureMode string

const (
	// FailWindowClosed answers 400 with code 131047 (Cloud) or 470
	// (On-Premises): the 24-hour window is closed.
	FailWindowClosed FailureMode = "window-closed"
	// FailRateLimited answers 429 with code 130429 (Cloud) or 1015
	// (On-Premises) and "Retry-After: 1".
	FailRateLimited FailureMode = "rate-limited"
	// FailServerError answers 500.
	FailServerError FailureMode = "server-error"
	// FailPermanent answers 400 with code 100 "Invalid parameter" (Cloud) or
	// 1009 (On-Premises).
	FailPermanent FailureMode = "permanent"
)

// failAlways as failLeft means "until Reset".
const failAlways = -1

// apiError is an error answer in generation-neutral form.
type apiError struct {
	status     int
	code       int64
	message    string
	details    string
	retryAfter string
}

// injected holds the answer of each failure mode, per generation, with codes
// and texts as the real APIs send them.
var injected = map[FailureMode]map[whatsapp.Generation]apiError{
	FailWindowClosed: {
		whatsapp.Cloud:      {status: http.StatusBadRequest, code: 131047, message: "(#131047) Re-engagement message", details: windowClosedDetails},
		whatsapp.OnPremises: {status: http.StatusBadRequest, code: 470, message: windowClosedTitleOnPrem},
	},
	FailRateLimited: {
		whatsapp.Cloud:      {status: http.StatusTooManyRequests, code: 130429, message: "(#130429) Rate limit hit", details: "Cloud API message throughput has been reached.", retryAfter: "1"},
		whatsapp.OnPremises: {status: http.StatusTooManyRequests, code: 1015, message: "Too many requests", retryAfter: "1"},
	},
	FailServerError: {
		whatsapp.Cloud:      {status: http.StatusInternalServerError, code: 131000, message: "(#131000) Something went wrong"},
		whatsapp.OnPremises: {status: http.StatusInternalServerError, code: 1014, message: "Internal error"},
	},
	FailPermanent: {
		whatsapp.Cloud:      {status: http.StatusBadRequest, code: 100, message: "(#100) Invalid parameter"},
		whatsapp.OnPremises: {status: http.StatusBadRequest, code: 1009, message: "Parameter value is not valid"},
	},
}

// Texts of the window-closed error, also used in failed status webhooks.
const (
	windowClosedTitleCloud  = "Re-engagement message"
	windowClosedDetails     = "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
	windowClosedTitleOnPrem = "Failed to send message because you are outside the support window for freeform messages to this user. Please use a valid HSM notification or reconsider."
)

// windowClosedStatusError is the error of a failed status webhook.
var windowClosedStatusError = map[whatsapp.Generation]payload.StatusError{
	whatsapp.Cloud:      {Code: 131047, Title: windowClosedTitleCloud, Message: windowClosedTitleCloud, Details: windowClosedDetails},
	whatsapp.OnPremises: {Code: 470, Title: windowClosedTitleOnPrem},
}

// FailNext makes the next n sends fail with mode; it replaces any failure set
// before.
func (s *Server) FailNext(mode FailureMode, n int) error {
	if n < 1 {
		return fmt.Errorf("fakewhatsapp: count must be at least 1, got %d", n)
	}
	return s.setFailure(mode, n)
}

// FailAlways makes every send fail with mode until Reset.
func (s *Server) FailAlways(mode FailureMode) error {
	return s.setFailure(mode, failAlways)
}

func (s *Server) setFailure(mode FailureMode, n int) error {
	if _, ok := injected[mode]; !ok {
		return fmt.Errorf("fakewhatsapp: unknown failure mode %q (want %s, %s, %s or %s)",
			mode, FailWindowClosed, FailRateLimited, FailServerError, FailPermanent)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure, s.failLeft = mode, n
	return nil
}

// Reset forgets recorded sends and pending failures.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent, s.failure, s.failLeft = nil, "", 0
}

// takeFailure consumes one pending failure, if any, and returns its answer.
func (s *Server) takeFailure(gen whatsapp.Generation) (apiError, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failLeft == 0 {
		return apiError{}, false
	}
	if s.failLeft > 0 {
		s.failLeft--
	}
	return injected[s.failure][gen], true
}
