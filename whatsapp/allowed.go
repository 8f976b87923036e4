package whatsapp

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultAllowedURLs is where sends may go unless an administrator says
// otherwise: Meta's Graph API only.
var DefaultAllowedURLs = []string{"https://graph.facebook.com/"}

// AllowedURLs are the URL prefixes an administrator lets channels send to.
// A channel's apiURL is written by whoever may edit the channel; the operator
// sends to it with the channel's access token and copies (a bounded part of)
// the answer into status, so without this list a channel editor could make the
// operator POST into any service it can reach. The zero value allows nothing.
type AllowedURLs struct {
	prefixes []*url.URL
}

// ParseAllowedURLs parses prefixes, each an absolute http(s) URL without user
// information, query or fragment.
func ParseAllowedURLs(prefixes []string) (AllowedURLs, error) {
	var a AllowedURLs
	for _, p := range prefixes {
		u, err := parseBase(p)
		if err != nil {
			return AllowedURLs{}, fmt.Errorf("allowed API URL %q: %w", p, err)
		}
		a.prefixes = append(a.prefixes, u)
	}
	return a, nil
}

// Allows reports whether a send to base (a channel's effective API base URL,
// see BaseURL) is allowed: its scheme and host (with port) are those of a
// prefix, and its path starts with the prefix's path, whole segments at a time
// unless the prefix ends with "/". The URL is parsed, never compared as a
// string, so "https://graph.facebook.com.evil.example" and
// "https://graph.facebook.com@evil.example" match nothing; a path with "." or
// ".." segments matches nothing either.
func (a AllowedURLs) Allows(base string) bool {
	u, err := parseBase(base)
	if err != nil {
		return false
	}
	for _, p := range a.prefixes {
		if u.Scheme == p.Scheme && hostPort(u) == hostPort(p) && pathUnder(u.Path, p.Path) {
			return true
		}
	}
	return false
}

// String lists the prefixes, for messages that say what is allowed.
func (a AllowedURLs) String() string {
	s := make([]string, len(a.prefixes))
	for i, p := range a.prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// parseBase parses an API base URL and refuses what cannot be compared safely.
func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("no host")
	case u.User != nil:
		return nil, fmt.Errorf("user information is not allowed")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("query and fragment are not allowed")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, fmt.Errorf("dot segments are not allowed")
		}
	}
	return u, nil
}

// hostPort is u's lower-case host with its port, the scheme's default made
// explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

func pathUnder(path, prefix string) bool {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path+"/", prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}
