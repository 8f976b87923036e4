// Command postwebhook posts a webhook body to the operator's receiver the way
// Meta does: the exact bytes of a file, signed with the app secret in
// X-Hub-Signature-256. It prints the answer and exits non-zero unless the
// receiver accepted it. With --verify-token it performs the GET verification
// handshake instead.
//
//	go run ./hack/postwebhook --url http://127.0.0.1:8082/webhooks/<path> --secret-env APP_SECRET --file body.json
//	go run ./hack/postwebhook --url http://127.0.0.1:8082/webhooks/<path> < onprem-body.json
//	go run ./hack/postwebhook --url http://127.0.0.1:8082/webhooks/<path> --verify-token T
//
// The secret is read from a file or an environment variable, never from the
// command line, where ps and shell history would show it.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
