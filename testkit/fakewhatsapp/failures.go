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

// deliveryErrors are the errors a failed status can carry, by code and
// generation: WhatsApp accepted the message, then could not deliver it.
var deliveryErrors = map[int64]map[whatsapp.Generation]payload.StatusError{
	131047: {
		whatsapp.Cloud:      {Code: 131047, Title: windowClosedTitleCloud, Message: windowClosedTitleCloud, Details: windowClosedDetails},
		whatsapp.OnPremises: {Code: 470, Title: windowClosedTitleOnPrem},
	},
	131026: {
		whatsapp.Cloud:      {Code: 131026, Title: "Message undeliverable", Message: "Message undeliverable", Details: "Unable to deliver message. Reasons can include: the recipient is not on WhatsApp, or has not accepted the latest terms."},
		whatsapp.OnPremises: {Code: 1013, Title: "User is not valid"},
	},
}

// codeWindowClosed is the default error of a failed status: the window closed.
const codeWindowClosed = 131047

// FailDeliveryNext makes the statuses posted for the next n accepted sends
// (auto-posted, or before the answer) a single "failed" carrying code: 131047 (the window had closed; 470
// for On-Premises) or 131026 (undeliverable; 1013 for On-Premises). The
// sends themselves succeed, as when WhatsApp accepts a message and fails it
// later.
func (s *Server) FailDeliveryNext(code int64, n int) error {
	if _, ok := deliveryErrors[code]; !ok || n < 1 {
		return fmt.Errorf("fakewhatsapp: cannot fail %d deliveries with code %d (codes: 131047, 131026)", n, code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.undeliverable, s.undeliverableLeft = code, n
	return nil
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

// FailSequence makes the next sends fail one each with modes, in order (a
// closed window, then a rate limit on the template that follows, say); it
// replaces any failure set before.
func (s *Server) FailSequence(modes ...FailureMode) error {
	if len(modes) == 0 {
		return fmt.Errorf("fakewhatsapp: FailSequence needs at least one mode")
	}
	for _, m := range modes {
		if _, ok := injected[m]; !ok {
			return fmt.Errorf("fakewhatsapp: unknown failure mode %q", m)
		}
	}
	if err := s.setFailure(modes[0], 1); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.then = append([]FailureMode(nil), modes[1:]...)
	return nil
}

func (s *Server) setFailure(mode FailureMode, n int) error {
	if _, ok := injected[mode]; !ok {
		return fmt.Errorf("fakewhatsapp: unknown failure mode %q (want %s, %s, %s or %s)",
			mode, FailWindowClosed, FailRateLimited, FailServerError, FailPermanent)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure, s.failLeft, s.then = mode, n, nil
	return nil
}

// Reset forgets recorded sends and pending failures.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent, s.early, s.failure, s.failLeft, s.then, s.undeliverableLeft, s.bills = nil, nil, "", 0, nil, 0, nil
}

// takeFailure consumes one pending failure, if any, and returns its answer.
func (s *Server) takeFailure(gen whatsapp.Generation) (apiError, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failLeft == 0 {
		return apiError{}, false
	}
	answer := injected[s.failure][gen]
	if s.failLeft > 0 {
		s.failLeft--
	}
	if s.failLeft == 0 && len(s.then) > 0 {
		s.failure, s.failLeft, s.then = s.then[0], 1, s.then[1:]
	}
	return answer, true
}
