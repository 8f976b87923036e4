package webhookreceiver_test

import (
	"bytes"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// A large body on its way in holds its share of the body budget: another large
// body is answered 503 with Retry-After at once instead of being read into memory,
// while a customer's order still gets in and is stored.
func TestLargeBodiesBeyondTheBudgetAreRefused(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	const large = 3 << 20
	receiver := webhookreceiver.New(webhookreceiver.Options{
		Client: mgrCache, APIReader: env.Client, Log: logr.Discard(),
		BodyBudget: 4<<20 + large, // the small bodies' reserve and one large body
	})
	srv := httptest.NewServer(receiver.Handler())
	defer srv.Close()
	url := srv.URL + ch.Status.WebhookPath

	// The first large body is sent slowly: its first byte, then nothing yet.
	first := sendSlowly(t, url, large)

	// The handler has reserved the first body's bytes once it reads them; until
	// then a second large body may still get in, and may even take the room
	// first, refusing the first instead: then a new first body is sent.
	var second response
	eventually(t, "a second large body to be refused", func() bool {
		select {
		case <-first.done:
			first = sendSlowly(t, url, large)
			return false
		default:
		}
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(make([]byte, large)))
		if err != nil {
			t.Fatal(err)
		}
		second = send(t, req)
		return second.code == http.StatusServiceUnavailable
	})
	if second.retryAfter == "" {
		t.Errorf("the refused body got no Retry-After: %+v", second)
	}

	body := cloudOrders(map[string][]payload.Item{"during-flood": {item(1, "5", "USD")}})
	req, err := webhookbody.Sign(body, []byte(appSecret)).Request(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if r := send(t, req); r.code != http.StatusOK {
		t.Fatalf("a customer's order while this receiver's budget is full: %d %s", r.code, r.body)
	}

	_ = first.feed.CloseWithError(io.ErrUnexpectedEOF)
	<-first.done
}

// slowBody is a request whose body of a declared length is sent one byte,
// then nothing until feed is closed; done gets its answer's status code.
type slowBody struct {
	feed *io.PipeWriter
	done chan int
}

func sendSlowly(t *testing.T, url string, length int64) *slowBody {
	t.Helper()
	body, feed := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	s := &slowBody{feed: feed, done: make(chan int, 1)}
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			s.done <- 0
			return
		}
		resp.Body.Close()
		s.done <- resp.StatusCode
	}()
	if _, err := feed.Write([]byte("{")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = feed.CloseWithError(io.ErrUnexpectedEOF) })
	return s
}
