package hubsignature

import (
	"errors"
	"strings"
	"testing"
)

// A published HMAC-SHA256 test vector, so Sign is checked against an
// independent implementation and not only against Verify.
const (
	vectorKey  = "key"
	vectorBody = "The quick brown fox jumps over the lazy dog"
	vectorSig  = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
)

func TestSignKnownVector(t *testing.T) {
	if got := Sign([]byte(vectorKey), []byte(vectorBody)); got != vectorSig {
		t.Fatalf("Sign = %q, want %q", got, vectorSig)
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("app-secret")
	// Meta escapes non-ASCII characters; the signature covers those escapes,
	// not the character they stand for.
	escaped := []byte(`{"text":{"body":"caf\u00e9"}}`)
	decoded := []byte(`{"text":{"body":"café"}}`)
	body := []byte(`{"object":"whatsapp_business_account"}`)
	sig := Sign(secret, body)

	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   error
	}{
		{name: "valid", secret: secret, body: body, header: sig},
		{name: "upper-case hex", secret: secret, body: body, header: "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256="))},
		{name: "escaped non-ASCII kept byte-exact", secret: secret, body: escaped, header: Sign(secret, escaped)},
		{name: "raw UTF-8 body", secret: secret, body: decoded, header: Sign(secret, decoded)},
		{name: "escaped body checked against its decoded form", secret: secret, body: decoded, header: Sign(secret, escaped), want: ErrMismatch},
		{name: "signature of a different body", secret: secret, body: body, header: Sign(secret, []byte(`{"object":"other"}`)), want: ErrMismatch},
		{name: "different secret", secret: []byte("other-secret"), body: body, header: sig, want: ErrMismatch},
		{name: "body with trailing newline", secret: secret, body: append(append([]byte{}, body...), '\n'), header: sig, want: ErrMismatch},
		{name: "empty secret", secret: nil, body: body, header: Sign(nil, body), want: ErrNoSecret},
		{name: "missing header", secret: secret, body: body, header: "", want: ErrMissing},
		{name: "no prefix", secret: secret, body: body, header: strings.TrimPrefix(sig, "sha256="), want: ErrMalformed},
		{name: "sha1 prefix", secret: secret, body: body, header: "sha1=" + strings.TrimPrefix(sig, "sha256="), want: ErrMalformed},
		{name: "upper-case prefix", secret: secret, body: body, header: "SHA256=" + strings.TrimPrefix(sig, "sha256="), want: ErrMalformed},
		{name: "prefix only", secret: secret, body: body, header: "sha256=", want: ErrMalformed},
		{name: "non-hex", secret: secret, body: body, header: "sha256=" + strings.Repeat("zz", 32), want: ErrMalformed},
		{name: "odd length", secret: secret, body: body, header: sig[:len(sig)-1], want: ErrMalformed},
		{name: "too short", secret: secret, body: body, header: sig[:len(sig)-2], want: ErrMalformed},
		{name: "too long", secret: secret, body: body, header: sig + "00", want: ErrMalformed},
		{name: "surrounding space", secret: secret, body: body, header: " " + sig, want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.body, tt.header)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			for _, other := range []error{ErrNoSecret, ErrMissing, ErrMalformed, ErrMismatch} {
				if other != tt.want && errors.Is(err, other) {
					t.Fatalf("Verify error %v also matches %v; sentinels must be distinct", err, other)
				}
			}
		})
	}
}

func TestVerifyErrorsDoNotRevealExpectedSignature(t *testing.T) {
	secret, body := []byte("app-secret"), []byte("{}")
	want := strings.TrimPrefix(Sign(secret, body), "sha256=")
	for _, header := range []string{"sha256=" + strings.Repeat("0", 64), "sha256=00", "garbage"} {
		err := Verify(secret, body, header)
		if err == nil || strings.Contains(err.Error(), want) || strings.Contains(err.Error(), string(secret)) {
			t.Fatalf("Verify(%q) = %v: must fail without revealing the secret or expected digest", header, err)
		}
	}
}
