package webhookreceiver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// Retry-After values: a channel that is not Ready waits on a person; an API
// server that refused waits on the cluster.
const (
	retryNotReady = 60 * time.Second
	retryCluster  = 10 * time.Second
	// answerWithin is the contract's bound on every answer; storeBudget is
	// what of it the work on a body may take, the rest is kept for answering.
	answerWithin = 5 * time.Second
	storeBudget  = answerWithin - 500*time.Millisecond
)

// Handler returns the receiver's HTTP handler.
func (r *Receiver) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		r.serve(rec, req)
		code := strconv.Itoa(rec.code)
		deliveries.WithLabelValues(code).Inc()
		requestDuration.WithLabelValues(methodLabel(req.Method), code).Observe(time.Since(start).Seconds())
	})
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	// Everything the request waits for (the API server above all) shares one
	// deadline, so the answer is out in time, also when nothing answers.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), storeBudget)
	defer cancel()
	if req.Method != http.MethodGet && req.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, "method %s not allowed; WhatsApp uses GET for verification and POST for webhooks", req.Method)
		return
	}
	ch, err := r.channelAt(ctx, req.URL.Path)
	if err != nil {
		writeUnavailable(w, retryCluster, "looking up the channel: %v", err)
		return
	}
	if ch == nil {
		writeError(w, http.StatusNotFound, "no WhatsAppChannel serves this path")
		return
	}
	if !meta.IsStatusConditionTrue(ch.Status.Conditions, commercev1alpha1.ConditionReady) {
		writeUnavailable(w, retryNotReady, "channel %s/%s is not Ready", ch.Namespace, ch.Name)
		return
	}
	vals, fetched, err := r.secrets.get(ctx, ch, r.opts.SecretTTL)
	if err != nil {
		r.log(ch).Error(err, "reading the channel's Secret")
		writeUnavailable(w, retryNotReady, "the channel's Secret is not usable")
		return
	}
	if req.Method == http.MethodGet {
		r.verifyEndpoint(w, req, ch, vals.VerifyToken)
		return
	}

	body, err := readBody(w, req)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "body larger than %d bytes", MaxBodyBytes)
			return
		}
		writeError(w, http.StatusBadRequest, "reading body: %v", err)
		return
	}
	if err := r.verify(ctx, ch, vals, fetched, body, req.Header.Get(hubsignature.Header)); err != nil {
		reason := signatureReason(err)
		signatureFailures.WithLabelValues(reason).Inc()
		r.log(ch).Info("webhook signature refused", "reason", reason, "remote", req.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "signature refused: %s", reason)
		return
	}
	delivery, err := payload.Parse(body, ch.API())
	if err != nil {
		r.log(ch).Info("webhook body refused", "error", err.Error())
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if !r.admission.enter(ctx) {
		writeUnavailable(w, retryBusy, "the receiver is storing as many bodies as it admits; try again later")
		return
	}
	defer r.admission.leave()
	report := r.store(ctx, ch, delivery.Elements)
	r.answer(w, report)
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
	if err := r.opts.Client.List(ctx, &list, client.MatchingFields{IndexWebhookPath: path}, client.UnsafeDisableDeepCopy); err != nil {
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
		fresh, _, loadErr := r.secrets.get(ctx, ch, 0)
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
func (r *Receiver) verifyEndpoint(w http.ResponseWriter, req *http.Request, ch *commercev1alpha1.WhatsAppChannel, token []byte) {
	q := req.URL.Query()
	if q.Get("hub.mode") != "subscribe" || !q.Has("hub.verify_token") || !q.Has("hub.challenge") {
		writeError(w, http.StatusBadRequest, "expected hub.mode=subscribe, hub.verify_token and hub.challenge")
		return
	}
	if len(token) == 0 {
		writeError(w, http.StatusForbidden, "verification is disabled: the channel's Secret has no %q", commercev1alpha1.SecretKeyVerifyToken)
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), token) != 1 {
		writeError(w, http.StatusForbidden, "wrong verify token")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, q.Get("hub.challenge"))
}

// answer writes the outcome of a body: 503 if anything could not be stored now
// (WhatsApp retries and the stored part is deduplicated), else 400 if some
// element can never be stored, else 200.
func (r *Receiver) answer(w http.ResponseWriter, rep *report) {
	switch {
	case rep.Failed > 0:
		w.Header().Set("Retry-After", strconv.Itoa(int(retryCluster.Seconds())))
		writeJSON(w, http.StatusServiceUnavailable, rep)
	case len(rep.Invalid) > 0:
		writeJSON(w, http.StatusBadRequest, rep)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

// methodLabel bounds the method label: anyone can send any method.
func methodLabel(m string) string {
	if m == http.MethodGet || m == http.MethodPost {
		return m
	}
	return "other"
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func writeUnavailable(w http.ResponseWriter, retry time.Duration, format string, args ...any) {
	w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())))
	writeError(w, http.StatusServiceUnavailable, format, args...)
}
