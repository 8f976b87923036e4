package archive

import (
	"net/url"
	"regexp"
	"strings"
)

// kvPassword matches password=... in a keyword/value connection string,
// quoted or not.
var kvPassword = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// Redact hides the password of a PostgreSQL connection string, in either of
// its forms (URL or keyword/value), so it can be logged.
func Redact(conn string) string {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		if err != nil {
			// An unparsable URL may still hold a password: show nothing of it.
			return "postgres://(unparsable URL)"
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return kvPassword.ReplaceAllString(conn, "password=xxxxx")
}
