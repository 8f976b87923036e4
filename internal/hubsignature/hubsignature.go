// Package hubsignature signs and verifies the X-Hub-Signature-256 header that
// Meta puts on Cloud API webhooks: "sha256=" followed by the hex HMAC-SHA256 of
// the raw request bytes, keyed with the app secret.
//
// Verification works on the exact bytes read from the wire, before any parsing
// or re-encoding, because Meta signs its own serialization (for example with
// non-ASCII characters escaped as \u00e9) and any round trip changes it.
package hubsignature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Header is the HTTP header that carries the signature.
const Header = "X-Hub-Signature-256"

// prefix names the algorithm in front of the hex digest.
const prefix = "sha256="

// Sentinel errors returned (wrapped) by Verify, so a receiver can count and log
// the reason without parsing strings. Every one of them means "reject".
var (
	// ErrNoSecret means no app secret is configured: nothing can be verified,
	// so nothing is accepted.
	ErrNoSecret = errors.New("hubsignature: no secret configured")
	// ErrMissing means the request carries no signature.
	ErrMissing = errors.New("hubsignature: signature missing")
	// ErrMalformed means the header is not "sha256=" followed by 64 hex digits.
	ErrMalformed = errors.New("hubsignature: signature malformed")
	// ErrMismatch means the signature is well formed but was not made with this
	// secret over these bytes.
	ErrMismatch = errors.New("hubsignature: signature mismatch")
)

// Sign returns the header value for body signed with secret: "sha256=<hex>".
// Signing with an empty secret yields a value Verify never accepts.
func Sign(secret, body []byte) string {
	return prefix + hex.EncodeToString(mac(secret, body))
}

// Verify checks header against the HMAC-SHA256 of body keyed with secret. It
// fails closed: a missing secret, a missing or malformed header and a wrong
// signature are all errors, each wrapping a distinct sentinel. Hex digits are
// accepted in either case, since the digest bytes, not their spelling, are
// compared, and the comparison is constant-time.
func Verify(secret, body []byte, header string) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	if header == "" {
		return ErrMissing
	}
	digest, ok := strings.CutPrefix(header, prefix)
	if !ok {
		return fmt.Errorf("%w: no %q prefix", ErrMalformed, prefix)
	}
	got, err := hex.DecodeString(digest)
	if err != nil {
		return fmt.Errorf("%w: digest is not hex", ErrMalformed)
	}
	if len(got) != sha256.Size {
		return fmt.Errorf("%w: digest has %d bytes, want %d", ErrMalformed, len(got), sha256.Size)
	}
	if !hmac.Equal(got, mac(secret, body)) {
		return ErrMismatch
	}
	return nil
}

func mac(secret, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(body)
	return h.Sum(nil)
}
