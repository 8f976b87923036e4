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

// waIDPattern is what a phone-based wa_id looks like: digits only. Anything
// else in from, wa_id or recipient_id (US.13491208655302741918, say) is a
// business-scoped user id, and never taken for a phone number.
var waIDPattern = regexp.MustCompile(`^[0-9]{1,32}$`)

// identify sorts an id that may be a phone number (from, wa_id,
// recipient_id) and a user id given beside it (from_user_id, user_id,
// recipient_user_id) into a Customer: only digits are a phone number; an id
// of another form is the user id, unless one is given explicitly.
func identify(id, userID string) Customer {
	c := Customer{UserID: userID}
	switch {
	case waIDPattern.MatchString(id):
		c.WaID = id
	case c.UserID == "":
		c.UserID = id
	}
	return c
}

// customer finds who sent a message: the contact whose wa_id equals from (or
// whose user_id equals from_user_id), or else the only contact of the change
// when nothing in it contradicts the message. Identifiers the contact lacks
// are taken from the message itself, so a customer with a withheld number, or
// a message without contacts, still gets what the body tells.
func customer(s sender, contacts []contact) Customer {
	c := matchContact(s, contacts)
	cust := identify(c.WaID, c.UserID)
	cust.Name = c.Profile.Name
	msg := identify(s.From, s.FromUserID)
	if cust.WaID == "" {
		cust.WaID = msg.WaID
	}
	if cust.UserID == "" {
		cust.UserID = msg.UserID
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
