// Command fakewhatsapp runs the fake WhatsApp Business API for local demos:
// point a WhatsAppChannel's spec.apiURL at it, watch each send logged on one
// line, and drive failures, status webhooks and the customer's replies to
// product messages with curl (see package testkit/fakewhatsapp for the
// /_fake/ admin API).
//
//	APP_SECRET=... go run ./hack/fakewhatsapp --webhook-url http://127.0.0.1:8082/webhooks/<path> \
//	    --webhook-secret-env APP_SECRET --auto-status
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts, err := parseFlags(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Error("invalid flags", "err", err)
		os.Exit(2)
	}
	opts.Logger = log
	if err := run(opts); err != nil {
		log.Error("fake stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until SIGINT or SIGTERM.
func run(opts fakewhatsapp.Options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := fakewhatsapp.New(opts)
	if err := srv.Start(); err != nil {
		return err
	}
	opts.Logger.Info("fake WhatsApp API listening", "url", srv.URL(), "cloud_base_url", srv.URL()+"/v23.0",
		"auto_status", opts.AutoStatus, "webhook_url", opts.WebhookURL, "signed", len(opts.AppSecret) > 0)
	<-ctx.Done()
	opts.Logger.Info("stopping")
	return srv.Close()
}

// parseFlags turns the command line into Options. The app secret is read
// from the environment, never from the command line, where ps and shell
// history would show it.
func parseFlags(args []string, getenv func(string) string) (fakewhatsapp.Options, error) {
	fs := flag.NewFlagSet("fakewhatsapp", flag.ContinueOnError)
	listen := fs.String("listen", fakewhatsapp.DemoAddr, "address to listen on")
	token := fs.String("token", "", "bearer token sends must carry (a test token, never a real one); empty accepts any")
	webhookURL := fs.String("webhook-url", "", "receiver URL that status webhooks are posted to")
	secretEnv := fs.String("webhook-secret-env", "", "name of the environment variable holding the app secret that signs webhooks; empty posts them unsigned")
	autoStatus := fs.Bool("auto-status", false, "post sent, delivered and read to --webhook-url after each accepted send")
	delay := fs.Duration("status-delay", time.Second, "wait before each auto-posted status")
	if err := fs.Parse(args); err != nil {
		return fakewhatsapp.Options{}, err
	}
	if fs.NArg() > 0 {
		return fakewhatsapp.Options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *autoStatus && *webhookURL == "" {
		return fakewhatsapp.Options{}, errors.New("--auto-status needs --webhook-url")
	}
	opts := fakewhatsapp.Options{Addr: *listen, AccessToken: *token, WebhookURL: *webhookURL, AutoStatus: *autoStatus, StatusDelay: *delay}
	if *secretEnv != "" {
		secret := getenv(*secretEnv)
		if secret == "" {
			return fakewhatsapp.Options{}, fmt.Errorf("environment variable %s is empty or unset", *secretEnv)
		}
		opts.AppSecret = []byte(secret)
	}
	return opts, nil
}
