package payload

import "testing"

func TestCustomer(t *testing.T) {
	ann := contact{WaID: "111", UserID: "US.1"}
	ann.Profile.Name = "Ann"
	bob := contact{WaID: "222"}
	bob.Profile.Name = "Bob"
	withheld := contact{UserID: "US.3"}
	withheld.Profile.Name = "Cy"
	nameOnly := contact{}
	nameOnly.Profile.Name = "Di"

	tests := []struct {
		name     string
		sender   sender
		contacts []contact
		want     Customer
	}{
		{"by wa_id among several", sender{From: "222"}, []contact{ann, bob}, Customer{WaID: "222", Name: "Bob"}},
		{"by user_id among several", sender{FromUserID: "US.1"}, []contact{bob, ann}, Customer{WaID: "111", UserID: "US.1", Name: "Ann"}},
		{"from is the user_id", sender{From: "US.3"}, []contact{bob, withheld}, Customer{UserID: "US.3", Name: "Cy"}},
		{"withheld number, only contact", sender{}, []contact{withheld}, Customer{UserID: "US.3", Name: "Cy"}},
		{"contact without ids gives its name", sender{From: "333"}, []contact{nameOnly}, Customer{WaID: "333", Name: "Di"}},
		{"only contact contradicts from", sender{From: "333"}, []contact{bob}, Customer{WaID: "333"}},
		{"only contact contradicts from_user_id", sender{FromUserID: "US.9"}, []contact{withheld}, Customer{UserID: "US.9"}},
		{"no match among several", sender{From: "333"}, []contact{ann, bob}, Customer{WaID: "333"}},
		{"no contacts, phone", sender{From: "16505551234"}, nil, Customer{WaID: "16505551234"}},
		{"no contacts, both ids", sender{From: "16505551234", FromUserID: "US.2"}, nil, Customer{WaID: "16505551234", UserID: "US.2"}},
		{"no contacts, business-scoped from", sender{From: "US.ENT.11815799212886844830"}, nil, Customer{UserID: "US.ENT.11815799212886844830"}},
		{"no contacts, from that is not digits is no phone number", sender{From: "+1 650 555"}, nil, Customer{UserID: "+1 650 555"}},
		{"contact wa_id holding a user id", sender{From: "US.5"}, []contact{{WaID: "US.5"}}, Customer{UserID: "US.5"}},
		{"contact wa_id holding a user id, user_id beside it", sender{}, []contact{{WaID: "US.5", UserID: "US.6"}}, Customer{UserID: "US.6"}},
		{"from_user_id wins over a non-digit from", sender{From: "US.5", FromUserID: "US.6"}, nil, Customer{UserID: "US.6"}},
		{"nothing at all", sender{}, nil, Customer{}},
		{"contact wa_id, message user id", sender{From: "111", FromUserID: "US.7"}, []contact{bob, {WaID: "111"}}, Customer{WaID: "111", UserID: "US.7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := customer(tt.sender, tt.contacts); got != tt.want {
				t.Errorf("customer = %+v, want %+v", got, tt.want)
			}
		})
	}
}
