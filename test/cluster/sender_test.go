//go:build cluster

package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// sender posts webhooks the way Meta does: signed, with a deadline per attempt,
// and it delivers again whatever was not answered 200 (Meta retries for hours; here
// the pause between attempts is short).
type sender struct {
	url    string
	secret []byte
	client *http.Client
}

// attemptTimeout is how long the sender waits for an answer: the contract's
// 5 seconds, after which a sender gives up on the attempt.
const attemptTimeout = 5 * time.Second

func newSender(url string, secret []byte) *sender {
	return &sender{url: url, secret: secret, client: &http.Client{
		Timeout: attemptTimeout,
		// One connection per attempt, as many senders do: a reset is seen as such,
		// not hidden by a retry on another pooled connection.
		Transport: &http.Transport{DisableKeepAlives: true},
	}}
}

// attempt is the outcome of one POST.
type attempt struct {
	status  int
	latency time.Duration
	// failure classifies an attempt that got no HTTP answer: "reset" (the
	// connection was closed or reset under the request), "timeout", or the error.
	failure string
}

// post sends body once.
func (s *sender) post(ctx context.Context, body []byte) attempt {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return attempt{failure: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(hubsignature.Header, hubsignature.Sign(s.secret, body))
	start := time.Now()
	resp, err := s.client.Do(req)
	latency := time.Since(start)
	if err != nil {
		return attempt{latency: latency, failure: classify(err)}
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return attempt{latency: latency, failure: classify(err)}
	}
	return attempt{status: resp.StatusCode, latency: latency}
}

func classify(err error) string {
	var netErr net.Error
	switch {
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		strings.Contains(err.Error(), "connection reset"), strings.Contains(err.Error(), "server closed"):
		return "reset"
	}
	return err.Error()
}

// delivery is what happened to one webhook until it was answered 200.
type delivery struct {
	attempts []attempt
}

func (d delivery) delivered() bool {
	return len(d.attempts) > 0 && d.attempts[len(d.attempts)-1].status == http.StatusOK
}

// deliver posts body until it is answered 200 or ctx ends.
func (s *sender) deliver(ctx context.Context, body []byte) delivery {
	var d delivery
	for {
		a := s.post(ctx, body)
		d.attempts = append(d.attempts, a)
		if a.status == http.StatusOK || ctx.Err() != nil {
			return d
		}
		select {
		case <-ctx.Done():
			return d
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// stream delivers one order per interval until stop is closed, each with its own
// message id, and returns every delivery by message id once all are done.
func (s *sender) stream(ctx context.Context, interval time.Duration, stop <-chan struct{}, order func(n int, id string) []byte) map[string]delivery {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		out = map[string]delivery{}
	)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-stop:
			wg.Wait()
			return out
		case <-tick.C:
		}
		id := fmt.Sprintf("wamid.cluster-%d-%d", time.Now().UnixNano(), n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := s.deliver(ctx, order(n, id))
			mu.Lock()
			out[id] = d
			mu.Unlock()
		}()
	}
}

// orderBody is a Cloud order webhook (testdata/webhooks/cloud-order-multi-item.json)
// with its own message id, from the customer waID, sent now (so that the customer's
// 24-hour window is open).
func orderBody(t testing.TB, messageID, waID string) []byte {
	t.Helper()
	raw, err := os.ReadFile(testenv.RepoRoot() + "/testdata/webhooks/cloud-order-multi-item.json")
	if err != nil {
		t.Fatal(err)
	}
	const sampleID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
	if !bytes.Contains(raw, []byte(sampleID)) {
		t.Fatalf("the order fixture no longer has the message id %s", sampleID)
	}
	raw = bytes.ReplaceAll(raw, []byte(sampleID), []byte(messageID))
	raw = bytes.ReplaceAll(raw, []byte(`"1750096325"`), []byte(fmt.Sprintf("%q", strconv.FormatInt(time.Now().Unix(), 10))))
	return bytes.ReplaceAll(raw, []byte("16505551234"), []byte(waID))
}
