package whatsapp

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WhatsApp error codes the classification depends on.
const (
	codeWindowClosedCloud  = 131047
	codeWindowClosedOnPrem = 470
)

// rateLimitCodes are the error codes that mean "too many requests": Cloud
// throughput (130429), pair rate (131056), WhatsApp Business account (80007)
// and Graph application (4) limits.
var rateLimitCodes = map[int64]bool{130429: true, 131056: true, 80007: true, 4: true}

// maxErrorText bounds each text of a WhatsApp error (message, title,
// details) that goes into an Error, and so into status, conditions and Events.
const maxErrorText = 256

// notWhatsApp describes an error answer that is not a WhatsApp error. The
// body itself is never quoted: it may be any service's answer, and what is
// written here is readable by whoever can read the resource.
const notWhatsApp = "body not a WhatsApp error"

// answer is the union of both generations' answers to a send.
type answer struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
	Error  *cloudError   `json:"error"`
	Errors []onPremError `json:"errors"`
}

// cloudError is the Graph API error object.
type cloudError struct {
	Message   string `json:"message"`
	Code      int64  `json:"code"`
	Subcode   int64  `json:"error_subcode"`
	FBTraceID string `json:"fbtrace_id"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// onPremError is one element of the On-Premises errors array.
type onPremError struct {
	Code    int64  `json:"code"`
	Title   string `json:"title"`
	Details string `json:"details"`
}

// parseAnswer returns the message id of a successful send, or the classified
// error. An error object wins over a 2xx status, and a 2xx answer without a
// message id is Permanent: the message may well have gone out, so sending it
// again risks a duplicate, and without its id no status can be matched to it.
func parseAnswer(status int, header http.Header, body []byte, now time.Time) (string, *Error) {
	var a answer
	decodeErr := json.Unmarshal(body, &a)
	e := &Error{HTTPStatus: status, RetryAfter: parseRetryAfter(header.Get("Retry-After"), now)}
	switch {
	case status/100 == 3:
		// The client follows no redirect (it would carry the token along),
		// whatever the body says.
		e.Class, e.Message = Permanent, "redirect not followed: a request carrying the access token goes only to the channel's apiURL"
		return "", e
	case a.Error != nil:
		e.Code, e.Subcode, e.FBTraceID = a.Error.Code, a.Error.Subcode, bound(a.Error.FBTraceID)
		e.Message = join(bound(a.Error.Message), bound(a.Error.ErrorData.Details))
	case len(a.Errors) > 0:
		e.Code = a.Errors[0].Code
		e.Message = join(bound(a.Errors[0].Title), bound(a.Errors[0].Details))
	case status/100 != 2:
		e.Message = notWhatsApp
	case decodeErr != nil:
		e.Class, e.Message, e.Err = Permanent, "malformed answer: not JSON", decodeErr
		return "", e
	case len(a.Messages) == 0 || a.Messages[0].ID == "":
		e.Class, e.Message = Permanent, "answer holds no message id"
		return "", e
	default:
		return a.Messages[0].ID, nil
	}
	e.Class = classify(status, e.Code)
	return "", e
}

// classify maps an HTTP status and WhatsApp error code to a Class. The window
// codes come first: they are final whatever status carries them.
func classify(status int, code int64) Class {
	switch {
	case code == codeWindowClosedCloud || code == codeWindowClosedOnPrem:
		return WindowClosed
	case rateLimitCodes[code] || status == http.StatusTooManyRequests:
		return RateLimited
	case status >= 500:
		return Transient
	default:
		return Permanent
	}
}

// parseRetryAfter reads a Retry-After value in either form RFC 9110 allows:
// delay seconds or an HTTP-date. Absent, invalid or past values yield zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func join(message, details string) string {
	if details == "" || details == message {
		return message
	}
	if message == "" {
		return details
	}
	return message + ": " + details
}

// bound cuts s to maxErrorText bytes, on a character boundary.
func bound(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	cut := maxErrorText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
