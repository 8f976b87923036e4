package fakewhatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

var (
	cloudID  = regexp.MustCompile(`^wamid\.[A-Za-z0-9+/]{43}=$`)
	onPremID = regexp.MustCompile(`^[A-Za-z0-9_-]{27}$`)
)

func TestClientAndFakeAgree(t *testing.T) {
	s := startFake(t, Options{AccessToken: testToken})
	cloud, onPrem := cloudClient(t, s, testToken), onPremClient(t, s, testToken)
	before := time.Now()

	textID, err := cloud.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}, ReplyTo: "wamid.ORDER="}, "Your order A-17 has shipped")
	if err != nil {
		t.Fatalf("cloud SendText: %v", err)
	}
	tmplID, err := cloud.SendTemplate(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, whatsapp.TemplateRef{Name: "order_update", Language: "en_US"}, []string{"A-17", "shipped"})
	if err != nil {
		t.Fatalf("cloud SendTemplate: %v", err)
	}
	userID, err := cloud.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{UserID: "US.13491208655302741918"}, CallbackData: "wco1|WhatsAppOrder|shop|o-1|Accepted"}, "Accepted")
	if err != nil {
		t.Fatalf("cloud SendText to a user id: %v", err)
	}
	opID, err := onPrem.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: "12064001000"}}, "Café ☕")
	if err != nil {
		t.Fatalf("on-premises SendText: %v", err)
	}
	opTmplID, err := onPrem.SendTemplate(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: "12064001000"}}, whatsapp.TemplateRef{Name: "hello_world", Language: "en", Namespace: "ns"}, nil)
	if err != nil {
		t.Fatalf("on-premises SendTemplate: %v", err)
	}

	for _, id := range []string{textID, tmplID, userID} {
		if !cloudID.MatchString(id) {
			t.Errorf("cloud message id %q does not look like a wamid", id)
		}
	}
	for _, id := range []string{opID, opTmplID} {
		if !onPremID.MatchString(id) {
			t.Errorf("on-premises message id %q does not look like one", id)
		}
	}
	want := []SentMessage{
		{Generation: whatsapp.Cloud, PhoneNumberID: testPhoneID, To: customer, Type: "text", Text: "Your order A-17 has shipped", ContextMessageID: "wamid.ORDER=", MessageID: textID},
		{Generation: whatsapp.Cloud, PhoneNumberID: testPhoneID, To: customer, Type: "template", TemplateName: "order_update", TemplateLanguage: "en_US", TemplateParams: []string{"A-17", "shipped"}, MessageID: tmplID},
		{Generation: whatsapp.Cloud, PhoneNumberID: testPhoneID, Recipient: "US.13491208655302741918", CallbackData: "wco1|WhatsAppOrder|shop|o-1|Accepted", Type: "text", Text: "Accepted", MessageID: userID},
		{Generation: whatsapp.OnPremises, To: "12064001000", Type: "text", Text: "Café ☕", MessageID: opID},
		{Generation: whatsapp.OnPremises, To: "12064001000", Type: "template", TemplateName: "hello_world", TemplateLanguage: "en", TemplateNamespace: "ns", MessageID: opTmplID},
	}
	got := s.Sent()
	if len(got) != len(want) {
		t.Fatalf("Sent() has %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Time.Before(before) || got[i].Time.After(time.Now()) {
			t.Errorf("message %d time %v is not the time of sending", i, got[i].Time)
		}
		got[i].Time = time.Time{}
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Errorf("message %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestCloudPathWithoutVersion(t *testing.T) {
	s := startFake(t, Options{})
	c, err := whatsapp.New(whatsapp.Config{BaseURL: s.URL(), PhoneNumberID: "42", AccessToken: "any"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	if got := s.Sent(); len(got) != 1 || got[0].PhoneNumberID != "42" {
		t.Fatalf("Sent() = %+v, want one message from 42", got)
	}
}

func TestAnswerBodies(t *testing.T) {
	s := startFake(t, Options{})
	tests := []struct {
		path, body string
		want       *regexp.Regexp
	}{
		{
			path: "/v23.0/" + testPhoneID + "/messages",
			body: `{"messaging_product":"whatsapp","to":"16505551234","type":"text","text":{"body":"hi"}}`,
			want: regexp.MustCompile(`^\{"messaging_product":"whatsapp","contacts":\[\{"input":"16505551234","wa_id":"16505551234"\}\],"messages":\[\{"id":"wamid\.[A-Za-z0-9+/]+="\}\]\}\n$`),
		},
		{
			path: "/v23.0/" + testPhoneID + "/messages",
			body: `{"messaging_product":"whatsapp","recipient":"US.1349","type":"text","text":{"body":"hi"}}`,
			want: regexp.MustCompile(`^\{"messaging_product":"whatsapp","contacts":\[\{"input":"US\.1349","user_id":"US\.1349"\}\],"messages":\[\{"id":"wamid\.[A-Za-z0-9+/]+="\}\]\}\n$`),
		},
		{
			path: "/v1/messages",
			body: `{"to":"16505551234","type":"text","text":{"body":"hi"}}`,
			want: regexp.MustCompile(`^\{"messages":\[\{"id":"[A-Za-z0-9_-]{27}"\}\]\}\n$`),
		},
	}
	for _, tt := range tests {
		resp, err := http.Post(s.URL()+tt.path, "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !tt.want.Match(body) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("POST %s = %d %s, want 200 matching %s", tt.path, resp.StatusCode, body, tt.want)
		}
	}
}

func TestWrongTokenIsRefused(t *testing.T) {
	s := startFake(t, Options{AccessToken: testToken})
	for name, c := range map[string]*whatsapp.Client{
		"cloud":       cloudClient(t, s, "stolen"),
		"on-premises": onPremClient(t, s, "stolen"),
	} {
		_, err := c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "hi")
		e, ok := errors.AsType[*whatsapp.Error](err)
		if !ok || e.HTTPStatus != http.StatusUnauthorized || e.Class != whatsapp.Permanent {
			t.Errorf("%s: err = %v, want Permanent 401", name, err)
		}
	}
	resp, err := http.Post(s.URL()+"/v1/messages", "application/json", strings.NewReader(`{"to":"1","type":"text","text":{"body":"hi"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("send without token = %d, want 401", resp.StatusCode)
	}
	if n := len(s.Sent()); n != 0 {
		t.Fatalf("%d unauthorized sends were recorded", n)
	}
}

func TestMalformedSendsAreRefused(t *testing.T) {
	s := startFake(t, Options{})
	cloud, onPrem := "/"+testPhoneID+"/messages", "/v1/messages"
	tests := []struct {
		name, path, body string
		status           int
		code             int64
	}{
		{"not JSON", cloud, `{"to":`, 400, 100},
		{"cloud without messaging_product", cloud, `{"to":"1","type":"text","text":{"body":"hi"}}`, 400, 100},
		{"on-premises with messaging_product", onPrem, `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"hi"}}`, 400, 1009},
		{"no recipient", cloud, `{"messaging_product":"whatsapp","type":"text","text":{"body":"hi"}}`, 400, 100},
		{"no type", onPrem, `{"to":"1","text":{"body":"hi"}}`, 400, 1009},
		{"empty text", cloud, `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":""}}`, 400, 100},
		{"text too long", onPrem, `{"to":"1","type":"text","text":{"body":"` + strings.Repeat("é", whatsapp.MaxTextLength+1) + `"}}`, 400, 1009},
		{"empty reply context", cloud, `{"messaging_product":"whatsapp","to":"1","context":{},"type":"text","text":{"body":"hi"}}`, 400, 100},
		{"template without language", cloud, `{"messaging_product":"whatsapp","to":"1","type":"template","template":{"name":"x"}}`, 400, 100},
		{"on-premises template without namespace", onPrem, `{"to":"1","type":"template","template":{"name":"x","language":{"policy":"deterministic","code":"en"}}}`, 400, 1009},
		{"user id in to", cloud, `{"messaging_product":"whatsapp","to":"US.13491208655302741918","type":"text","text":{"body":"hi"}}`, 400, 100},
		{"on-premises to a user id", onPrem, `{"recipient":"US.13491208655302741918","type":"text","text":{"body":"hi"}}`, 400, 1009},
		{"on-premises with callback data", onPrem, `{"to":"1","biz_opaque_callback_data":"x","type":"text","text":{"body":"hi"}}`, 400, 1009},
		{"callback data over 512 bytes", cloud, `{"messaging_product":"whatsapp","to":"1","biz_opaque_callback_data":"` + strings.Repeat("x", 513) + `","type":"text","text":{"body":"hi"}}`, 400, 100},
		{"unknown version prefix", "/latest/" + testPhoneID + "/messages", `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"hi"}}`, 404, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(s.URL()+tt.path, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var answer struct {
				Error  struct{ Code int64 }   `json:"error"`
				Errors []struct{ Code int64 } `json:"errors"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
				t.Fatalf("error answer is not JSON: %v", err)
			}
			code := answer.Error.Code
			if len(answer.Errors) > 0 {
				code = answer.Errors[0].Code
			}
			if resp.StatusCode != tt.status || code != tt.code {
				t.Fatalf("answer = %d code %d, want %d code %d", resp.StatusCode, code, tt.status, tt.code)
			}
		})
	}
	if n := len(s.Sent()); n != 0 {
		t.Fatalf("%d refused sends were recorded", n)
	}
}

func TestConcurrentSendsGetUniqueIDs(t *testing.T) {
	s := startFake(t, Options{})
	c := cloudClient(t, s, "any")
	const n = 50
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ids[i], errs[i] = c.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, fmt.Sprint("message ", i))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != n {
		t.Fatal("message ids are not unique")
	}
	if got := len(s.Sent()); got != n {
		t.Fatalf("recorded %d sends, want %d", got, n)
	}
}
