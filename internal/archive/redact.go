package archive

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// masked stands in for every value Redact hides.
const masked = "xxxxx"

// shownParams are the connection parameters whose values say where and how to
// connect and hold no secret. Every other value (password, user, sslkey,
// sslpassword, passfile, options, a parameter added to libpq tomorrow) is
// masked: a list of what to hide would miss the next one.
var shownParams = []string{"host", "hostaddr", "port", "dbname", "sslmode", "connect_timeout", "application_name", "target_session_attrs"}

// kvParam matches key=value in a keyword/value connection string, the value
// quoted or not.
var kvParam = regexp.MustCompile(`(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// Redact masks every secret part of a PostgreSQL connection string, in either
// of its forms (URL or keyword/value), so it can be logged: the user
// information, and the value of every parameter but those in shownParams.
func Redact(conn string) string {
	if !strings.HasPrefix(conn, "postgres://") && !strings.HasPrefix(conn, "postgresql://") {
		return kvParam.ReplaceAllStringFunc(conn, func(kv string) string {
			m := kvParam.FindStringSubmatch(kv)
			if slices.Contains(shownParams, m[1]) {
				return kv
			}
			return m[1] + "=" + masked
		})
	}
	u, err := url.Parse(conn)
	if err != nil {
		// An unparsable URL may still hold a password: show nothing of it.
		return "postgres://(unparsable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(masked, masked)
		} else {
			u.User = url.User(masked)
		}
	}
	q := u.Query()
	for k := range q {
		if !slices.Contains(shownParams, k) {
			q[k] = []string{masked}
		}
	}
	u.RawQuery = q.Encode()
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
