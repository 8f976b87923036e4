package payload

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func isBodyError(err error) bool {
	var be *BodyError
	return errors.As(err, &be)
}

// TestParseBodyErrors covers every way a body as a whole can never be stored.
func TestParseBodyErrors(t *testing.T) {
	const cloud, onprem = Cloud, OnPremises
	tests := []struct {
		name string
		api  Format
		body string
		want string // in the error message
	}{
		{"empty", cloud, "", "body is empty"},
		{"blank", onprem, " \r\n\t", "body is empty"},
		{"truncated", cloud, `{"object":`, "body is not JSON"},
		{"garbage", onprem, "hello", "body is not JSON"},
		{"trailing data", cloud, `{"object":"whatsapp_business_account","entry":[]} {}`, "body is not JSON"},
		{"array", cloud, `[]`, "body is an array, not a JSON object"},
		{"string", onprem, `"statuses"`, "body is a string, not a JSON object"},
		{"number", cloud, `42`, "body is a number, not a JSON object"},
		{"boolean", onprem, `true`, "body is a boolean, not a JSON object"},
		{"null", cloud, `null`, "body is null, not a JSON object"},

		{"cloud without object", cloud, `{"entry":[]}`, `no "object" string`},
		{"cloud object not a string", cloud, `{"object":1,"entry":[]}`, `no "object" string`},
		{"cloud other object", cloud, `{"object":"page","entry":[]}`, `object is "page", not "whatsapp_business_account"`},
		{"cloud without entry", cloud, `{"object":"whatsapp_business_account"}`, "no entry array: entry is missing, not an array"},
		{"cloud null entry", cloud, `{"object":"whatsapp_business_account","entry":null}`, "entry is null, not an array"},
		{"cloud entry object", cloud, `{"object":"whatsapp_business_account","entry":{}}`, "entry is an object, not an array"},
		{"cloud on-premises body", cloud, `{"statuses":[]}`, `no "object" string`},

		{"on-premises empty object", onprem, `{}`, "none of contacts, messages, statuses or errors"},
		{"on-premises unrelated", onprem, `{"foo":[1]}`, "none of contacts, messages, statuses or errors"},
		{"on-premises only nulls", onprem, `{"messages":null,"statuses":null}`, "none of contacts"},
		{"on-premises cloud body", onprem, `{"object":"whatsapp_business_account","entry":[]}`, "it looks like a Cloud body"},
		{"on-premises messages object", onprem, `{"messages":{}}`, "messages is an object, not an array"},
		{"on-premises statuses string", onprem, `{"statuses":"sent"}`, "statuses is a string, not an array"},
		{"on-premises contacts number", onprem, `{"contacts":1,"messages":[]}`, "contacts is a number, not an array"},
		{"on-premises errors bool", onprem, `{"errors":false}`, "errors is a boolean, not an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.body), tt.api)
			if !isBodyError(err) {
				t.Fatalf("Parse = %v, %v; want a *BodyError", d, err)
			}
			if d != nil {
				t.Errorf("Parse returned a delivery with its error: %+v", d)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseEmptyButValid(t *testing.T) {
	for _, tt := range []struct {
		api  Format
		body string
	}{
		{Cloud, `{"object":"whatsapp_business_account","entry":[]}`},
		{OnPremises, `{"messages":[]}`},
		{OnPremises, `{"contacts":[{"wa_id":"1"}]}`},
	} {
		d, err := Parse([]byte(tt.body), tt.api)
		if err != nil || len(d.Elements) != 0 {
			t.Errorf("Parse(%s) = %+v, %v; want no elements and no error", tt.body, d, err)
		}
	}
}

func TestParseUnknownFormat(t *testing.T) {
	for _, f := range []Format{0, OnPremises + 1} {
		_, err := Parse([]byte(`{"messages":[]}`), f)
		if err == nil || isBodyError(err) {
			t.Fatalf("Parse with format %d = %v; want a plain error, not a *BodyError", f, err)
		}
		if want := fmt.Sprintf("Format(%d)", f); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name the format %s", err, want)
		}
	}
}
