package webhookreceiver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// verdict is what the receiver concluded about a request.
type verdict int

const (
	// verdictStored: every element of the body is stored, or was before.
	verdictStored verdict = iota
	// verdictVerified: Meta's GET handshake, answered with its challenge.
	verdictVerified
	verdictWrongMethod
	verdictUnknownPath
	// verdictChannelNotReady: the channel, or its Secret, waits on a person.
	verdictChannelNotReady
	// verdictClusterUnavailable: the channel could not be looked up.
	verdictClusterUnavailable
	// verdictBadRequest: a handshake without its parameters, or a body that
	// cannot be read or is not a webhook of the channel's API.
	verdictBadRequest
	verdictTooLarge
	// verdictSlowBody: the body did not arrive within Options.BodyReadTimeout.
	verdictSlowBody
	verdictBadSignature
	// verdictVerifyRefused: a wrong verify token, or none configured.
	verdictVerifyRefused
	// verdictSomeFailed: some element could not be stored now, or is a
	// status whose record is not visible yet.
	verdictSomeFailed
	// verdictBusy: the receiver sheds the body rather than grow past its
	// memory budget for bodies in flight, or queue a store it could not finish
	// in time.
	verdictBusy
)

// answers is the one place that turns a verdict into an HTTP status. WhatsApp
// resends whatever is not answered 200 for up to a week, so 200 means stored,
// 503 (with Retry-After) means "send again later", and 4xx means "this will
// never be stored", but for 408: the body did not arrive in time, which
// depends on the link rather than on the body. A channel that is not Ready waits on a person; an API
// server that refused waits on the cluster.
var answers = map[verdict]struct {
	code       int
	retryAfter time.Duration
}{
	verdictStored:             {http.StatusOK, 0},
	verdictVerified:           {http.StatusOK, 0},
	verdictWrongMethod:        {http.StatusMethodNotAllowed, 0},
	verdictUnknownPath:        {http.StatusNotFound, 0},
	verdictChannelNotReady:    {http.StatusServiceUnavailable, 60 * time.Second},
	verdictClusterUnavailable: {http.StatusServiceUnavailable, 10 * time.Second},
	verdictBadRequest:         {http.StatusBadRequest, 0},
	verdictTooLarge:           {http.StatusRequestEntityTooLarge, 0},
	verdictSlowBody:           {http.StatusRequestTimeout, 0},
	verdictBadSignature:       {http.StatusUnauthorized, 0},
	verdictVerifyRefused:      {http.StatusForbidden, 0},
	verdictSomeFailed:         {http.StatusServiceUnavailable, 10 * time.Second},
	verdictBusy:               {http.StatusServiceUnavailable, RetryBusy},
}

// response is a verdict and what the answer's body says: the report of a
// stored body, an error message, or the handshake's challenge.
type response struct {
	verdict   verdict
	report    *report
	err       string
	challenge string
}

func refuse(v verdict, format string, args ...any) response {
	return response{verdict: v, err: fmt.Sprintf(format, args...)}
}

// verdict of a body whose elements were stored (or not) as rep says:
// anything not stored now makes WhatsApp retry the whole body, whose stored
// part is then deduplicated. Elements that can never be stored do not: they
// are kept, listed in the answer, and retrying would never store them.
func (rep *report) verdict() verdict {
	if rep.Failed > 0 || rep.NotYetRecorded > 0 || rep.PastDeadline > 0 {
		return verdictSomeFailed
	}
	return verdictStored
}

func (resp response) write(w http.ResponseWriter) {
	a := answers[resp.verdict]
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(a.retryAfter.Seconds())))
	}
	switch {
	case resp.verdict == verdictVerified:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(a.code)
		_, _ = io.WriteString(w, resp.challenge)
		return
	case resp.verdict == verdictWrongMethod:
		w.Header().Set("Allow", "GET, POST")
	}
	var body any = map[string]string{"error": resp.err}
	if resp.report != nil {
		body = resp.report
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.code)
	_ = json.NewEncoder(w).Encode(body)
}
