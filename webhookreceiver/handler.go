package webhookreceiver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// answerWithin is the contract's bound on every answer: senders give up after
// about 5 s (and send again). storeBudget is what of it the work on a request
// may take, whatever the API server does; the rest is kept for answering 503
// with Retry-After in time.
const (
	answerWithin = 5 * time.Second
	storeBudget  = answerWithin - time.Second
	// DefaultBodyReadTimeout is how long a body may take to arrive, counted from
	// the request's arrival: Meta's largest (3 MiB) over a link of 1 MiB/s
	// (8.4 Mbit/s, slow for a sender in a data centre, and an ingress that
	// buffers bodies hands them on far faster), which leaves a second of
	// storeBudget to store it. A body that cannot arrive in time could not be
	// stored in time either; cutting it off is what bounds how long an
	// upload, honest or not, holds its room in the body budget.
	DefaultBodyReadTimeout = 3 * time.Second
)

// Handler returns the receiver's HTTP handler, instrumented with the
// receiver's request metrics.
func (r *Receiver) Handler() http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.handle(w, req).write(w) })
	return promhttp.InstrumentHandlerInFlight(requestsInFlight,
		promhttp.InstrumentHandlerDuration(requestDuration,
			promhttp.InstrumentHandlerCounter(deliveries, h)))
}

// handle works out the answer to one request.
func (r *Receiver) handle(w http.ResponseWriter, req *http.Request) response {
	// Set first, as it also bounds how long the server goes on reading the
	// body of a request refused before its body was read. Where a connection
	// has no deadlines to set, the server's ReadTimeout is the bound.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(r.opts.BodyReadTimeout))
	// Everything the request waits for (the API server above all) shares one
	// deadline, so the answer is out in time, also when nothing answers. A
	// sender that hangs up does not cancel it: what is being stored is stored.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), storeBudget)
	defer cancel()
	if req.Method != http.MethodGet && req.Method != http.MethodPost {
		return refuse(verdictWrongMethod, "method %s not allowed; WhatsApp uses GET for verification and POST for webhooks", req.Method)
	}
	// Until a request has proven itself with the channel's signature, its
	// answer does not say which channel (namespace, name) serves the path.
	ch, err := r.channelAt(ctx, req.URL.Path)
	if err != nil {
		r.opts.Log.Error(err, "looking up a webhook path's channel")
		return refuse(verdictClusterUnavailable, "the channel could not be looked up now")
	}
	if ch == nil {
		return refuse(verdictUnknownPath, "no WhatsAppChannel serves this path")
	}
	if !meta.IsStatusConditionTrue(ch.Status.Conditions, commercev1alpha1.ConditionReady) {
		return refuse(verdictChannelNotReady, "the channel is not Ready")
	}
	vals, fetched, err := r.secrets.Get(ctx, ch, r.opts.SecretResyncPeriod)
	if err != nil {
		r.log(ch).Error(err, "reading the channel's Secret")
		// An API server too slow to answer in time is the cluster's matter,
		// not the channel's: the sender should come back soon.
		var secretErr *channelsecret.Error
		if errors.As(err, &secretErr) && secretErr.Transient {
			return refuse(verdictClusterUnavailable, "the channel's Secret could not be read now")
		}
		return refuse(verdictChannelNotReady, "the channel's Secret is not usable")
	}
	if req.Method == http.MethodGet {
		return verifyEndpoint(req, vals.VerifyToken)
	}

	if req.ContentLength > MaxBodyBytes {
		return refuse(verdictTooLarge, "body larger than %d bytes", MaxBodyBytes)
	}
	reserved := req.ContentLength
	if reserved < 0 {
		reserved = MaxBodyBytes
	}
	release, ok := r.budget.reserve(ch.Namespace, reserved)
	if !ok {
		return refuse(verdictBusy, "too many bodies in flight; send again later")
	}
	defer release()
	body, err := readBody(w, req)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return refuse(verdictTooLarge, "body larger than %d bytes", MaxBodyBytes)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return refuse(verdictSlowBody, "the body did not arrive within %s", r.opts.BodyReadTimeout)
		}
		return refuse(verdictBadRequest, "reading body: %v", err)
	}
	// The body is in. What the server reads from now on only tells whether
	// the sender hung up, and a timeout there would end the connection's
	// context for nothing.
	_ = rc.SetReadDeadline(time.Time{})
	if err := r.verify(ctx, ch, vals, fetched, body, req.Header.Get(hubsignature.Header)); err != nil {
		reason := signatureReason(err)
		signatureFailures.WithLabelValues(reason).Inc()
		r.log(ch).Info("webhook signature refused", "reason", reason, "remote", req.RemoteAddr)
		return refuse(verdictBadSignature, "signature refused: %s", reason)
	}
	parsed, err := payload.Parse(body, formatOf(ch))
	if err != nil {
		return r.refuseBody(ctx, ch, body, err)
	}
	leave, ok := r.admission.enter(ctx, ch.Namespace)
	if !ok {
		return refuse(verdictBusy, "the receiver is storing as many bodies as it admits; send again later")
	}
	defer leave()
	rep := r.store(ctx, ch, body, parsed.Elements)
	return response{verdict: rep.verdict(), report: rep}
}

// log is the receiver's logger for a channel. It is built only where something
// is logged: the fields cost allocations on every request otherwise.
func (r *Receiver) log(ch *commercev1alpha1.WhatsAppChannel) logr.Logger {
	return r.opts.Log.WithValues("channel", client.ObjectKeyFromObject(ch))
}

// readBody reads the body up to MaxBodyBytes, in one allocation when the
// sender says how long it is.
func readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	limited := http.MaxBytesReader(w, req.Body, MaxBodyBytes)
	if n := req.ContentLength; n > 0 && n <= MaxBodyBytes {
		buf := bytes.NewBuffer(make([]byte, 0, n+1))
		_, err := buf.ReadFrom(limited)
		return buf.Bytes(), err
	}
	return io.ReadAll(limited)
}

// channelAt finds the channel whose published webhook path is path, from the
// cache. The handler only reads the channel, so the cache's copy is not copied.
func (r *Receiver) channelAt(ctx context.Context, path string) (*commercev1alpha1.WhatsAppChannel, error) {
	if !strings.HasPrefix(path, channelsecret.WebhookPathPrefix) {
		return nil, nil
	}
	var list commercev1alpha1.WhatsAppChannelList
	if err := r.opts.Client.List(ctx, &list, client.MatchingFields{index.WebhookPath: path}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

// verify checks the body's signature. The app secret is required for Cloud and,
// when present, for On-Premises (a gateway in front may sign). A mismatch with a
// secret cached for more than a moment is checked once more against a fresh read,
// so a rotated app secret works at once.
func (r *Receiver) verify(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, vals channelsecret.Values, fetched time.Time, body []byte, header string) error {
	if len(vals.AppSecret) == 0 && ch.API() == commercev1alpha1.APIOnPremises {
		return nil
	}
	err := hubsignature.Verify(vals.AppSecret, body, header)
	if errors.Is(err, hubsignature.ErrMismatch) && time.Since(fetched) > time.Second {
		fresh, _, loadErr := r.secrets.Get(ctx, ch, 0)
		if loadErr == nil {
			err = hubsignature.Verify(fresh.AppSecret, body, header)
		}
	}
	return err
}

func signatureReason(err error) string {
	switch {
	case errors.Is(err, hubsignature.ErrMissing):
		return "missing"
	case errors.Is(err, hubsignature.ErrMalformed):
		return "malformed"
	case errors.Is(err, hubsignature.ErrMismatch):
		return "mismatch"
	default:
		return "no_secret"
	}
}

// verifyEndpoint answers Meta's GET handshake: hub.challenge is echoed only to a
// caller that knows the verify token.
func verifyEndpoint(req *http.Request, token []byte) response {
	q := req.URL.Query()
	if q.Get("hub.mode") != "subscribe" || !q.Has("hub.verify_token") || !q.Has("hub.challenge") {
		return refuse(verdictBadRequest, "expected hub.mode=subscribe, hub.verify_token and hub.challenge")
	}
	if len(token) == 0 {
		return refuse(verdictVerifyRefused, "verification is disabled: the channel's Secret has no %q", commercev1alpha1.SecretKeyVerifyToken)
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), token) != 1 {
		return refuse(verdictVerifyRefused, "wrong verify token")
	}
	return response{verdict: verdictVerified, challenge: q.Get("hub.challenge")}
}
