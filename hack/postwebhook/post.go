package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
)

// maxAnswerBytes bounds how much of the receiver's answer is printed.
const maxAnswerBytes = 1 << 20

// Exit codes.
const (
	exitOK      = 0
	exitRefused = 1 // the request failed or the receiver did not accept it
	exitUsage   = 2
)

// run does one invocation and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c, err := parseConfig(args, stdin, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(stderr, "postwebhook:", err)
		}
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if c.verifyToken != "" {
		err = verify(ctx, c, stdout)
	} else {
		err = post(ctx, c, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "postwebhook:", err)
		return exitRefused
	}
	return exitOK
}

// post sends the body, signed when a secret is configured, and prints the
// answer. Any status but 2xx is an error.
func post(ctx context.Context, c *config, stdout io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url.String(), bytes.NewReader(c.body))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if len(c.secret) > 0 {
		req.Header.Set(hubsignature.Header, hubsignature.Sign(c.secret, c.body))
	}
	status, _, err := do(req, stdout)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("receiver answered %d", status)
	}
	return nil
}

// verify performs Meta's subscription handshake: the receiver must answer
// 200 with the challenge as the whole body.
func verify(ctx context.Context, c *config, stdout io.Writer) error {
	challenge := c.challenge
	if challenge == "" {
		challenge = rand.Text()
	}
	u := *c.url
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.verify_token", c.verifyToken)
	q.Set("hub.challenge", challenge)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	status, body, err := do(req, stdout)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("receiver answered %d", status)
	}
	if string(body) != challenge {
		return fmt.Errorf("receiver answered 200 but did not echo the challenge %q", challenge)
	}
	return nil
}

// do sends req and prints the status line and the answer's body.
func do(req *http.Request, stdout io.Writer) (int, []byte, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, verify token included; keep only
		// its cause and name the URL without the query.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return 0, nil, fmt.Errorf("%s %s: %w", req.Method, withoutQuery(req.URL), err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return 0, nil, fmt.Errorf("reading answer: %w", err)
	}
	fmt.Fprintf(stdout, "HTTP %s\n", resp.Status)
	if len(body) > 0 {
		fmt.Fprintf(stdout, "%s\n", bytes.TrimSuffix(body, []byte("\n")))
	}
	return resp.StatusCode, body, nil
}

// withoutQuery keeps the verify token out of error messages.
func withoutQuery(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	return c.String()
}
