package payload

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Locate returns the JSON of the elements at paths (Element.Paths of body),
// byte for byte as WhatsApp sent them, so that what the operator refuses can
// be kept verbatim for a person to inspect; nil for a path body has no
// element at. It reads body once for all the paths together, each level of
// them no more than once, so that its cost grows with the body, not with the
// number of paths times the body. body must be one Parse accepted.
//
// Members are matched to path segments as json.Unmarshal matches them to the
// fields Parse decodes them into: the name exactly or folded, the last of
// repeated ones winning.
func Locate(body []byte, paths []string) []json.RawMessage {
	root := &pathNode{}
	for i, p := range paths {
		if n := root.add(p); n != nil {
			n.want = append(n.want, i)
		}
	}
	out := make([]json.RawMessage, len(paths))
	start := skipSpace(body, 0)
	root.visit(body, start, skipValue(body, start), out)
	return out
}

// pathNode is a step of the paths being located: the paths that end at it,
// and the members (of an object) or items (of an array) that lead further.
type pathNode struct {
	want    []int
	members map[string]*pathNode
	items   map[int]*pathNode
}

// add makes the nodes of path, "entry[0].changes[1]", and returns its last,
// or nil when path is not of that form.
func (n *pathNode) add(path string) *pathNode {
	for seg := range strings.SplitSeq(path, ".") {
		name, index, hasIndex := seg, 0, false
		if open := strings.IndexByte(seg, '['); open >= 0 {
			i, err := strconv.Atoi(strings.TrimSuffix(seg[open+1:], "]"))
			if !strings.HasSuffix(seg, "]") || err != nil || i < 0 {
				return nil
			}
			name, index, hasIndex = seg[:open], i, true
		}
		n = child(&n.members, name)
		if hasIndex {
			n = child(&n.items, index)
		}
	}
	return n
}

func child[K comparable](m *map[K]*pathNode, k K) *pathNode {
	if *m == nil {
		*m = map[K]*pathNode{}
	}
	c := (*m)[k]
	if c == nil {
		c = &pathNode{}
		(*m)[k] = c
	}
	return c
}

// visit records body[start:end], the value at n, for the paths ending at n,
// and goes on into its members or items.
func (n *pathNode) visit(body []byte, start, end int, out []json.RawMessage) {
	if start >= end {
		return
	}
	for _, i := range n.want {
		out[i] = body[start:end:end]
	}
	switch {
	case n.members != nil && body[start] == '{':
		found := map[*pathNode][2]int{}
		eachMember(body, start, func(key []byte, vs, ve int) {
			for name, c := range n.members {
				if keyMatches(key, name) {
					found[c] = [2]int{vs, ve}
				}
			}
		})
		for c, span := range found {
			c.visit(body, span[0], span[1], out)
		}
	case n.items != nil && body[start] == '[':
		eachItem(body, start, func(i, vs, ve int) {
			if c := n.items[i]; c != nil {
				c.visit(body, vs, ve, out)
			}
		})
	}
}

// keyMatches tells whether the member key (still quoted) is the field name
// for json.Unmarshal: equal once unescaped, or equal under Unicode folding.
func keyMatches(quoted []byte, name string) bool {
	key := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(key, '\\') >= 0 || !isASCII(key) {
		// Escapes and invalid UTF-8 are read as json.Unmarshal reads them.
		var s string
		if json.Unmarshal(quoted, &s) != nil {
			return false
		}
		key = []byte(s)
	}
	return bytes.EqualFold(key, []byte(name))
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// eachMember calls f with each member's quoted key and the span of its value,
// for the object at body[start].
func eachMember(body []byte, start int, f func(key []byte, vs, ve int)) {
	i := skipSpace(body, start+1)
	for i < len(body) && body[i] == '"' {
		ke := skipValue(body, i)
		key := body[i:ke]
		i = skipSpace(body, ke)
		if i >= len(body) || body[i] != ':' {
			return
		}
		vs := skipSpace(body, i+1)
		ve := skipValue(body, vs)
		f(key, vs, ve)
		i = skipSpace(body, ve)
		if i >= len(body) || body[i] != ',' {
			return
		}
		i = skipSpace(body, i+1)
	}
}

// eachItem calls f with each item's index and span, for the array at
// body[start].
func eachItem(body []byte, start int, f func(i, vs, ve int)) {
	i := skipSpace(body, start+1)
	if i < len(body) && body[i] == ']' {
		return
	}
	for n := 0; i < len(body); n++ {
		ve := skipValue(body, i)
		if ve == i {
			return
		}
		f(n, i, ve)
		i = skipSpace(body, ve)
		if i >= len(body) || body[i] != ',' {
			return
		}
		i = skipSpace(body, i+1)
	}
}

func skipSpace(body []byte, i int) int {
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at body[i], which is
// valid JSON: strings are skipped whole, containers by their depth.
func skipValue(body []byte, i int) int {
	if i >= len(body) {
		return i
	}
	switch body[i] {
	case '"':
		for i++; i < len(body); i++ {
			switch body[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(body)
	case '{', '[':
		depth := 0
		for ; i < len(body); i++ {
			switch body[i] {
			case '"':
				i = skipValue(body, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(body)
	}
	// A number or a literal ends where a delimiter or space begins.
	for ; i < len(body); i++ {
		switch body[i] {
		case ',', ']', '}', ' ', '\t', '\r', '\n':
			return i
		}
	}
	return i
}
