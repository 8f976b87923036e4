package payload

import "regexp"

// contact is an element of contacts[]: the profile WhatsApp gives for a sender.
type contact struct {
	WaID    string `json:"wa_id"`
	UserID  string `json:"user_id"`
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	flaw
}

func (c *contact) decodeError() (string, error) { return "", c.err }

// sender is how a message names who sent it. From is the phone-based wa_id,
// or, once usernames let customers withhold their number, possibly absent;
// FromUserID is the business-scoped user id sent alongside.
type sender struct {
	From       string `json:"from"`
	FromUserID string `json:"from_user_id"`
}

var (
	// waIDPattern is what a phone-based wa_id looks like.
	waIDPattern = regexp.MustCompile(`^[0-9]{1,32}$`)
	// userIDPattern is what a business-scoped user id looks like:
	// US.13491208655302741918, US.ENT.11815799212886844830.
	userIDPattern = regexp.MustCompile(`^[A-Z]{2}\.[A-Za-z0-9.]+$`)
)

// customer finds who sent a message: the contact whose wa_id equals from (or
// whose user_id equals from_user_id), or else the only contact of the change
// when nothing in it contradicts the message. Identifiers the contact lacks
// are taken from the message itself, so a customer with a withheld number, or
// a message without contacts, still gets what the body tells.
func customer(s sender, contacts []contact) Customer {
	c := matchContact(s, contacts)
	cust := Customer{WaID: c.WaID, UserID: c.UserID, Name: c.Profile.Name}
	if cust.WaID == "" && waIDPattern.MatchString(s.From) {
		cust.WaID = s.From
	}
	if cust.UserID == "" {
		cust.UserID = s.FromUserID
	}
	if cust.UserID == "" && userIDPattern.MatchString(s.From) {
		cust.UserID = s.From
	}
	if cust.WaID == "" && cust.UserID == "" {
		// from is in neither known form: keep it rather than lose the sender.
		cust.WaID = s.From
	}
	return cust
}

func matchContact(s sender, contacts []contact) contact {
	for _, c := range contacts {
		if (c.WaID != "" && c.WaID == s.From) || (c.UserID != "" && (c.UserID == s.FromUserID || c.UserID == s.From)) {
			return c
		}
	}
	if len(contacts) == 1 && consistent(contacts[0], s) {
		return contacts[0]
	}
	return contact{}
}

// consistent tells whether c could be the sender: no identifier both carry differs.
func consistent(c contact, s sender) bool {
	differ := func(a, b string) bool { return a != "" && b != "" && a != b }
	return !differ(c.WaID, s.From) && !differ(c.UserID, s.FromUserID)
}
