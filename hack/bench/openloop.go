package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
)

// openLoop calls fire(i, at) for i in 0..n-1 at the fixed times start + i/rate,
// each on its own goroutine, so that a slow answer never delays the next
// send: the offered load stays rate whatever the receiver does, as Meta's does.
// A send that falls behind its time (the machine was busy) goes at once. It
// returns when every fire has returned; when ctx ends no new fire starts.
func openLoop(ctx context.Context, start time.Time, n int, rate float64, fire func(i int)) {
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; i < n; i++ {
		if wait := time.Until(sendTime(start, i, rate)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() { fire(i) })
	}
	wg.Wait()
}

// sendTime is when the i-th request of a schedule at rate per second is due.
func sendTime(start time.Time, i int, rate float64) time.Time {
	return start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
}

// answer is how one webhook request went.
type answer struct {
	// sent is when the request was started.
	sent time.Time
	// latency is from sent to the end of the answer's body.
	latency time.Duration
	// code is the HTTP status, or codeError when no answer came.
	code int
	// report is the receiver's account of what it did, when it answered JSON.
	report receiverReport
	// refusal is the start of an answer other than 200, to show why.
	refusal string
	// retryAfter is the answer's Retry-After, for a refusal that has one.
	retryAfter time.Duration
	// redelivered counts the posts after this first one that WhatsApp's
	// retries made (see redeliver), and final is the last one's code.
	redelivered int
	final       int
}

// refusalBytes is how much of a refusal is kept.
const refusalBytes = 160

// receiverReport is the part of the receiver's answer the bench checks.
type receiverReport struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unmatched int `json:"unmatched"`
	Failed    int `json:"failed"`
}

// codeError stands for a request that got no answer at all (timeout, reset).
const codeError = 0

// poster posts signed webhook bodies, as Meta does, and records each answer.
type poster struct {
	http *http.Client
	url  string
}

// openLoopClient is a keep-alive HTTP client with no bound on connections:
// an open-loop sender opens as many as the receiver keeps busy.
func openLoopClient() *http.Client {
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     2 * time.Minute,
		},
	}
}

// post sends the signed body and waits for the whole answer.
func (p *poster) post(ctx context.Context, body webhookbody.Signed) answer {
	a := answer{code: codeError}
	req, err := body.Request(ctx, p.url)
	if err != nil {
		return a
	}
	a.sent = time.Now()
	resp, err := p.http.Do(req)
	if err != nil {
		a.latency = time.Since(a.sent)
		return a
	}
	defer resp.Body.Close()
	// Read to the end so that the connection is reused.
	raw, err := io.ReadAll(resp.Body)
	a.latency = time.Since(a.sent)
	if err != nil {
		return a
	}
	a.code = resp.StatusCode
	_ = json.Unmarshal(raw, &a.report)
	if a.code != http.StatusOK {
		a.refusal = string(bytes.TrimSpace(raw[:min(len(raw), refusalBytes)]))
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			a.retryAfter = time.Duration(secs) * time.Second
		}
	}
	return a
}

// defaultRedelivery is how long WhatsApp waits before it posts a refused
// webhook again when the answer says nothing.
const defaultRedelivery = 5 * time.Second

// redeliver posts body as WhatsApp delivers a webhook: again after each
// answer other than 200, after its Retry-After, until one is 200 or ctx
// ends. It returns the first answer, with the number of posts after it and
// the last one's code.
func (p *poster) redeliver(ctx context.Context, body webhookbody.Signed) answer {
	first := p.post(ctx, body)
	first.final = first.code
	last := first
	for last.code != http.StatusOK {
		wait := last.retryAfter
		if wait <= 0 {
			wait = defaultRedelivery
		}
		select {
		case <-ctx.Done():
			return first
		case <-time.After(wait):
		}
		last = p.post(ctx, body)
		first.redelivered++
		first.final = last.code
	}
	return first
}

// answerStats summarizes the answers of one kind of webhook.
type answerStats struct {
	n int
	// codes counts answers by HTTP status ("error" for none).
	codes map[string]int
	// latencies are sorted.
	latencies []time.Duration
	// rate is requests per second between the first and the last send.
	rate float64
	// refusals are a few distinct answers other than 200.
	refusals []string
}

func summarize(as []answer) answerStats {
	s := answerStats{n: len(as), codes: map[string]int{}}
	var first, last time.Time
	for _, a := range as {
		if a.sent.IsZero() {
			continue // never sent: the run was interrupted
		}
		s.codes[codeLabel(a.code)]++
		if a.refusal != "" && len(s.refusals) < keptErrors && !slices.Contains(s.refusals, a.refusal) {
			s.refusals = append(s.refusals, a.refusal)
		}
		s.latencies = append(s.latencies, a.latency)
		if first.IsZero() || a.sent.Before(first) {
			first = a.sent
		}
		if a.sent.After(last) {
			last = a.sent
		}
	}
	slices.Sort(s.latencies)
	if sent := len(s.latencies); sent > 1 && last.After(first) {
		s.rate = float64(sent-1) / last.Sub(first).Seconds()
	}
	return s
}

func codeLabel(code int) string {
	if code == codeError {
		return "error"
	}
	return strconv.Itoa(code)
}

// codesText lists the answers by code, most frequent first, as "200: 5999, 503: 1".
func (s answerStats) codesText() string {
	codes := make([]string, 0, len(s.codes))
	for c := range s.codes {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b string) int {
		if d := s.codes[b] - s.codes[a]; d != 0 {
			return d
		}
		return bytes.Compare([]byte(a), []byte(b))
	})
	var b bytes.Buffer
	for i, c := range codes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + ": " + strconv.Itoa(s.codes[c]))
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}
