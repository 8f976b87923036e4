package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	env := map[string]string{"APP_SECRET": "s3cr3t"}
	getenv := func(k string) string { return env[k] }

	opts, err := parseFlags([]string{"--token", "tok", "--webhook-url", "http://127.0.0.1:8082/webhooks/x",
		"--webhook-secret-env", "APP_SECRET", "--auto-status", "--status-delay", "250ms"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Addr != "127.0.0.1:8090" || opts.AccessToken != "tok" || string(opts.AppSecret) != "s3cr3t" ||
		!opts.AutoStatus || opts.StatusDelay != 250*time.Millisecond || opts.WebhookURL != "http://127.0.0.1:8082/webhooks/x" {
		t.Fatalf("options = %+v", opts)
	}

	defaults, err := parseFlags(nil, getenv)
	if err != nil || defaults.AppSecret != nil || defaults.AutoStatus || defaults.StatusDelay != time.Second {
		t.Fatalf("defaults = %+v, %v", defaults, err)
	}

	for args, want := range map[string]string{
		"--auto-status":                "needs --webhook-url",
		"--webhook-secret-env MISSING": "MISSING is empty or unset",
		"stray":                        "unexpected arguments",
		"--status-delay soon":          "invalid value",
	} {
		if _, err := parseFlags(strings.Fields(args), getenv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseFlags(%s) = %v, want an error containing %q", args, err, want)
		}
	}
}
