package whatsapp

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A channel's apiURL may answer with a redirect to anywhere: the token must
// not follow it, whichever redirect status and whether or not the caller's
// http.Client would follow redirects itself.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var reached, withToken atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if r.Header.Get("Authorization") != "" {
			withToken.Add(1)
		}
		_, _ = io.WriteString(w, `{"messages":[{"id":"wamid.stolen"}]}`)
	}))
	t.Cleanup(elsewhere.Close)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/collect", status)
		}))
		for _, hc := range []*http.Client{nil, {}, elsewhere.Client()} {
			c := mustClient(t, Config{BaseURL: redirector.URL, PhoneNumberID: "1", AccessToken: testToken, HTTPClient: hc})
			id, err := c.SendText(t.Context(), Send{To: Recipient{WaID: "16505551234"}}, "hi")
			e, ok := errors.AsType[*Error](err)
			if !ok || e.Class != Permanent || e.HTTPStatus != status || !strings.Contains(e.Message, "redirect not followed") {
				t.Errorf("HTTP %d: id %q, err %v; want a Permanent refusal of the redirect", status, id, err)
			}
		}
		redirector.Close()
	}
	if reached.Load() != 0 || withToken.Load() != 0 {
		t.Fatalf("the redirect target was reached %d times, %d of them with the token", reached.Load(), withToken.Load())
	}
}

// Only WhatsApp's error, bounded, reaches an Error: another service's answer
// is never quoted.
func TestErrorsQuoteOnlyWhatsAppErrorsBounded(t *testing.T) {
	secret := "internal-service-secret"
	long := strings.Repeat("é", 1000)
	for _, tc := range []struct {
		name, answer string
		status       int
		want         string
	}{
		{"an internal service's JSON", `{"db_password":"` + secret + `"}`, 500, "body not a WhatsApp error"},
		{"an internal service's text", secret, 403, "body not a WhatsApp error"},
		{"an internal service's 2xx", secret, 200, "malformed answer: not JSON"},
		{"a long Cloud error", `{"error":{"message":"` + long + `","code":100,"error_data":{"details":"` + long + `"}}}`, 400, strings.Repeat("é", 128) + "..."},
		{"a long On-Premises error", `{"errors":[{"code":1009,"title":"` + long + `","details":"` + long + `"}]}`, 400, strings.Repeat("é", 128) + "..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newServer(t, tc.status, tc.answer)
			_, err := cloudClient(t, srv).SendText(t.Context(), Send{To: Recipient{WaID: "1"}}, "hi")
			e, ok := errors.AsType[*Error](err)
			if !ok || !strings.Contains(e.Message, tc.want) {
				t.Fatalf("err %v, want a message with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) || len(err.Error()) > 2*maxErrorText+100 {
				t.Fatalf("the error quotes the answer or is unbounded (%d bytes): %.300s", len(err.Error()), err)
			}
		})
	}
}

func TestAllowedURLs(t *testing.T) {
	meta, err := ParseAllowedURLs(DefaultAllowedURLs)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := ParseAllowedURLs([]string{"http://wa-proxy.shop.svc:8080/tenant-a", "https://Example.COM/base/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		allowed AllowedURLs
		url     string
		want    bool
	}{
		{meta, DefaultCloudBaseURL, true},
		{meta, "https://graph.facebook.com", true},
		{meta, "https://GRAPH.facebook.com:443/v20.0", true},
		{meta, "http://graph.facebook.com/v23.0", false},
		{meta, "https://graph.facebook.com.evil.example/v23.0", false},
		{meta, "https://graph.facebook.com@evil.example/v23.0", false},
		{meta, "https://user:pw@graph.facebook.com/v23.0", false},
		{meta, "https://graph.facebook.com:8443/v23.0", false},
		{meta, "https://evil.example/graph.facebook.com/", false},
		{meta, "https://evil.example/?u=https://graph.facebook.com/", false},
		{meta, "https://graph.facebook.com/v23.0/../../x", false},
		{meta, "https://graph.facebook.com/%2e%2e/x", false},
		{meta, "http://10.0.0.1:8080/v1", false},
		{meta, "", false},
		{meta, "graph.facebook.com/v23.0", false},
		{proxy, "http://wa-proxy.shop.svc:8080/tenant-a", true},
		{proxy, "http://wa-proxy.shop.svc:8080/tenant-a/", true},
		{proxy, "http://wa-proxy.shop.svc:8080/tenant-ab", false},
		{proxy, "http://wa-proxy.shop.svc:8080/tenant-b", false},
		{proxy, "http://wa-proxy.shop.svc/tenant-a", false},
		{proxy, "https://example.com/base", true},
		{proxy, "https://example.com/base/x", true},
		{proxy, "https://example.com/basement", false},
		{AllowedURLs{}, DefaultCloudBaseURL, false},
	} {
		if got := tc.allowed.Allows(tc.url); got != tc.want {
			t.Errorf("%v allows %q: %v, want %v", tc.allowed, tc.url, got, tc.want)
		}
	}
	for _, bad := range []string{"graph.facebook.com", "ftp://x/", "https://u@x/", "https://x/?q", "https://x/../y"} {
		if _, err := ParseAllowedURLs([]string{bad}); err == nil {
			t.Errorf("ParseAllowedURLs accepted %q", bad)
		}
	}
}
