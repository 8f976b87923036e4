package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"
)

// errSecretOnCommandLine explains why there is no --secret flag, so the user
// learns what to do instead of reading "flag provided but not defined".
var errSecretOnCommandLine = errors.New("refusing --secret: a secret on the command line is visible in ps and shell history; use --secret-file or --secret-env")

// errReported marks errors the flag package has already printed, with usage.
var errReported = errors.New("reported")

// config is what one invocation does.
type config struct {
	url     *url.URL
	timeout time.Duration
	// For posting a body.
	secret []byte
	body   []byte
	// For the GET handshake, when verifyToken is set.
	verifyToken string
	challenge   string
}

// parseConfig reads the flags, the secret and the body. stdin is read only
// when the body comes from "-".
func parseConfig(args []string, stdin io.Reader, getenv func(string) string, stderr io.Writer) (*config, error) {
	if err := refuseSecretFlag(args); err != nil {
		return nil, err
	}
	fs := flag.NewFlagSet("postwebhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", "", "receiver URL, e.g. http://127.0.0.1:8082/webhooks/<path> (required)")
	secretFile := fs.String("secret-file", "", "file holding the app secret; a trailing newline is ignored")
	secretEnv := fs.String("secret-env", "", "name of the environment variable holding the app secret")
	file := fs.String("file", "-", `file holding the JSON body, sent byte for byte; "-" reads stdin`)
	verifyToken := fs.String("verify-token", "", "perform the GET verification handshake with this token instead of posting")
	challenge := fs.String("challenge", "", "challenge for the handshake; default: a random one")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", errReported, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	c := &config{timeout: *timeout, verifyToken: *verifyToken, challenge: *challenge}
	u, err := url.Parse(*rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q must be an http(s) URL", *rawURL)
	}
	c.url = u

	if set["verify-token"] {
		if c.verifyToken == "" {
			return nil, errors.New("--verify-token must not be empty")
		}
		if set["file"] || set["secret-file"] || set["secret-env"] {
			return nil, errors.New("--verify-token performs a GET; --file, --secret-file and --secret-env do not apply")
		}
		return c, nil
	}
	if set["challenge"] {
		return nil, errors.New("--challenge needs --verify-token")
	}
	if c.secret, err = loadSecret(*secretFile, *secretEnv, getenv); err != nil {
		return nil, err
	}
	if c.body, err = readBody(*file, stdin); err != nil {
		return nil, err
	}
	return c, nil
}

// refuseSecretFlag looks for -secret or --secret (with or without "=value")
// before the flag package does, because a flag.Func error would echo the
// value, that is the secret, to stderr.
func refuseSecretFlag(args []string) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if strings.HasPrefix(a, "-") && name == "secret" {
			return errSecretOnCommandLine
		}
	}
	return nil
}

// loadSecret returns the app secret from a file or the environment, or nil
// for an unsigned post (an On-Premises client signs nothing). A source that
// was named but yields nothing is an error, so a typo never silently
// produces an unsigned request.
func loadSecret(file, env string, getenv func(string) string) ([]byte, error) {
	switch {
	case file != "" && env != "":
		return nil, errors.New("use either --secret-file or --secret-env, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading secret: %w", err)
		}
		b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
		if len(b) == 0 {
			return nil, fmt.Errorf("secret file %s is empty", file)
		}
		return b, nil
	case env != "":
		v := getenv(env)
		if v == "" {
			return nil, fmt.Errorf("environment variable %s is empty or unset", env)
		}
		return []byte(v), nil
	}
	return nil, nil
}

// readBody returns the exact bytes to send: no parsing or re-encoding, since
// the signature covers those bytes and a receiver must see what Meta sends.
func readBody(file string, stdin io.Reader) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if file == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if len(b) == 0 {
		return nil, errors.New("body is empty")
	}
	return b, nil
}
