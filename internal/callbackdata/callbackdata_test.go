package callbackdata

import (
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, r := range []Ref{
		{Kind: "WhatsAppOrder", Namespace: "shop", Name: "shop-1d9e97dc2ec5e7cce0de", About: "Accepted"},
		{Kind: "ProductInquiry", Namespace: "a", Name: "b", About: "reply"},
		{Kind: "ProductMessage", Namespace: "a", Name: "b", About: ""},
	} {
		got, ok := Parse(r.String())
		if !ok || got != r {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", r.String(), got, ok, r)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", r, err)
		}
	}
}

func TestParseRefusesOthers(t *testing.T) {
	for _, s := range []string{
		"", "hello", "wco1|WhatsAppOrder|ns|name", "wco2|WhatsAppOrder|ns|name|Accepted",
		"wco1||ns|name|Accepted", "wco1|WhatsAppOrder||name|Accepted", "wco1|WhatsAppOrder|ns||Accepted",
		"wco1|WhatsAppOrder|ns|name|Accepted|extra",
	} {
		if r, ok := Parse(s); ok {
			t.Errorf("Parse(%q) = %+v, want refusal", s, r)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := (Ref{Kind: "K", Namespace: "n|s", Name: "x"}).Validate(); err == nil {
		t.Error("a '|' in a part was accepted")
	}
	if err := (Ref{Kind: "K", Namespace: "ns", Name: strings.Repeat("x", MaxLen)}).Validate(); err == nil {
		t.Error("callback data over 512 bytes was accepted")
	}
}
