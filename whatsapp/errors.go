package whatsapp

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Class tells a caller what to do about a failed send.
type Class string

const (
	// WindowClosed: the 24-hour customer service window is closed (Cloud code
	// 131047, On-Premises 470). Final for free-form messages; only a template
	// can reach the customer now.
	WindowClosed Class = "WindowClosed"
	// RateLimited: too many messages (codes 130429, 131056, 80007, 4, or HTTP
	// 429). Retry after RetryAfter, or with backoff when it is zero.
	RateLimited Class = "RateLimited"
	// Transient: 5xx answers, network errors and timeouts. Retry with backoff.
	Transient Class = "Transient"
	// Permanent: any other refusal, an unreadable answer, or a message that
	// was invalid before sending. Final.
	Permanent Class = "Permanent"
)

// Error is every error a Client returns. Fields that do not apply are zero.
type Error struct {
	Class Class
	// HTTPStatus is the answer's status code; zero when no answer came.
	HTTPStatus int
	// Code and Subcode are WhatsApp's error code and error_subcode.
	Code    int64
	Subcode int64
	// Message is WhatsApp's message and details, or what went wrong locally.
	Message string
	// FBTraceID identifies the request to Meta support (Cloud only).
	FBTraceID string
	// RetryAfter is the wait the API asked for in Retry-After; zero if none.
	RetryAfter time.Duration
	// Err is the underlying cause (a transport error, ErrTextTooLong, ...);
	// nil for errors the API reported.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "whatsapp: %s", e.Class)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, ", code %d", e.Code)
	}
	if e.Subcode != 0 {
		fmt.Fprintf(&b, ", subcode %d", e.Subcode)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap exposes the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of the first *Error in err's chain. An error
// without one is Permanent, so that unknown failures are not retried blindly;
// nil has no class and yields "".
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Class
	}
	return Permanent
}

// RetryAfter returns how long the API asked the caller to wait, or zero when
// it did not say (use your own backoff then).
func RetryAfter(err error) time.Duration {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.RetryAfter
	}
	return 0
}
