// Package whatsapp sends messages to customers through the WhatsApp Business
// API, in either generation (Cloud or On-Premises), and classifies every
// failure so callers know whether to retry, wait, fall back to a template, or
// give up.
package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Generation is the WhatsApp Business API generation a client speaks. Its
// values match the WhatsAppChannel spec.api enum, so a channel's field converts
// directly.
type Generation string

const (
	// Cloud is Meta's hosted Graph API.
	Cloud Generation = "Cloud"
	// OnPremises is the self-hosted WhatsApp Business API client.
	OnPremises Generation = "OnPremises"
)

// DefaultCloudBaseURL is the Graph API base URL used for Cloud when none is
// configured.
const DefaultCloudBaseURL = "https://graph.facebook.com/v23.0"

// DefaultTimeout bounds a send whose context has no deadline, so a stuck API
// cannot stall a reconcile forever.
const DefaultTimeout = 10 * time.Second

// maxAnswerBytes bounds how much of an answer is read: real answers are a few
// hundred bytes, and a misbehaving proxy must not make us buffer megabytes.
const maxAnswerBytes = 1 << 20

// Config says where and as whom a Client sends. It is cheap to build one per
// channel or per call.
type Config struct {
	// Generation defaults to Cloud.
	Generation Generation
	// BaseURL defaults to DefaultCloudBaseURL for Cloud; it is required for
	// OnPremises (the address of the business's own WhatsApp client).
	BaseURL string
	// PhoneNumberID is the Cloud phone number id messages are sent from;
	// required for Cloud, unused for OnPremises.
	PhoneNumberID string
	// AccessToken is the bearer token. It is sent only in the Authorization
	// header and never appears in errors.
	AccessToken string
	// HTTPClient defaults to http.DefaultClient.
	HTTPClient *http.Client
	// Timeout applies when a call's context has no deadline; zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Client sends messages for one phone number. It is safe for concurrent use.
type Client struct {
	generation Generation
	endpoint   string
	// number is the Cloud phone number's Graph URL, under which payments are
	// looked up; empty for On-Premises.
	number  string
	token   string
	http    *http.Client
	timeout time.Duration
}

// New validates cfg and returns a Client for it.
func New(cfg Config) (*Client, error) {
	c := &Client{
		generation: cfg.Generation,
		token:      cfg.AccessToken,
		http:       cfg.HTTPClient,
		timeout:    cfg.Timeout,
	}
	if c.generation == "" {
		c.generation = Cloud
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	// A redirect would carry the access token to wherever the answer points:
	// never follow one (post refuses the 3xx answer).
	noRedirects := *c.http
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &noRedirects
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.token == "" {
		return nil, errors.New("whatsapp: access token is required")
	}
	base := BaseURL(c.generation, cfg.BaseURL)
	switch c.generation {
	case Cloud:
		if cfg.PhoneNumberID == "" {
			return nil, errors.New("whatsapp: phone number id is required for the Cloud API")
		}
	case OnPremises:
		if base == "" {
			return nil, errors.New("whatsapp: base URL is required for the On-Premises API")
		}
	default:
		return nil, fmt.Errorf("whatsapp: unknown API generation %q (want %q or %q)", c.generation, Cloud, OnPremises)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: parsing base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("whatsapp: base URL %q must be an http(s) URL without query or fragment", base)
	}
	base = strings.TrimSuffix(base, "/")
	if c.generation == Cloud {
		c.number = base + "/" + url.PathEscape(cfg.PhoneNumberID)
		c.endpoint = c.number + "/messages"
	} else {
		c.endpoint = base + "/v1/messages"
	}
	return c, nil
}

// BaseURL is where a client of generation g configured with base sends:
// base, or for Cloud DefaultCloudBaseURL when base is empty.
func BaseURL(g Generation, base string) string {
	if base == "" && (g == Cloud || g == "") {
		return DefaultCloudBaseURL
	}
	return base
}

// post sends one message object and returns the id WhatsApp assigned to it.
// Every failure is an *Error.
func (c *Client) post(ctx context.Context, msg *outgoing) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		return "", &Error{Class: Permanent, Message: "encoding message: " + err.Error(), Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(payload))
	if err != nil {
		return "", &Error{Class: Permanent, Message: "building request: " + c.redact(err.Error()), Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		return "", c.transportError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return "", c.transportError(fmt.Errorf("reading answer: %w", err))
	}
	id, apiErr := parseAnswer(resp.StatusCode, resp.Header, body, time.Now())
	if apiErr != nil {
		apiErr.Message = c.redact(apiErr.Message)
		return "", apiErr
	}
	return id, nil
}

// transportError classifies a failure to get an answer at all: connection
// refused, reset, timeouts and cancellation may all succeed later. Note that a
// timeout after the request left may still have sent the message; WhatsApp
// offers no idempotency key, so a retry can duplicate it.
func (c *Client) transportError(err error) *Error {
	return &Error{Class: Transient, Message: c.redact(err.Error()), Err: err}
}

// redact removes the access token from text that is about to leave the
// client, in case a server or proxy echoes it back.
func (c *Client) redact(s string) string {
	return strings.ReplaceAll(s, c.token, "[redacted]")
}
