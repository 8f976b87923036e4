package fakewhatsapp

import (
	"testing"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// Two fakes behind one Front each get their own sends, through the real
// client, Cloud and On-Premises, under the one URL an operator allows.
func TestFrontRoutesEachFakeUnderItsName(t *testing.T) {
	front, err := StartFront("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = front.Close() })
	a, b := startFake(t, Options{AccessToken: testToken}), startFake(t, Options{AccessToken: testToken})
	urlA, err := front.Route("shop-a", a)
	if err != nil {
		t.Fatal(err)
	}
	urlB, err := front.Route("shop-b", b)
	if err != nil {
		t.Fatal(err)
	}
	allowed, err := whatsapp.ParseAllowedURLs([]string{front.URL() + "/"})
	if err != nil || !allowed.Allows(urlA) || !allowed.Allows(urlB) {
		t.Fatalf("a route is not under the Front's URL (%v)", err)
	}
	cloud, err := whatsapp.New(whatsapp.Config{BaseURL: urlA + "/v23.0", PhoneNumberID: testPhoneID, AccessToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	onPrem, err := whatsapp.New(whatsapp.Config{Generation: whatsapp.OnPremises, BaseURL: urlB, AccessToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloud.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "to a"); err != nil {
		t.Fatal(err)
	}
	if _, err := onPrem.SendText(t.Context(), whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}, "to b"); err != nil {
		t.Fatal(err)
	}
	if sa, sb := a.Sent(), b.Sent(); len(sa) != 1 || sa[0].Text != "to a" || len(sb) != 1 || sb[0].Text != "to b" {
		t.Fatalf("a got %+v, b got %+v; want one each", sa, sb)
	}
	if _, err := front.Route("a/b", a); err == nil {
		t.Error("a route name with a slash was accepted")
	}
}
