package payload

import "bytes"

// Where the walker reads the envelope (the body, a Cloud entry, change, value)
// it takes members from a map[string]json.RawMessage or a json.RawMessage
// field, and the one-pass decode from struct fields of slice or pointer type.
// encoding/json treats the two alike but in two cases:
//
//   - a key differing in case: a struct field also takes "Messages" or
//     "MESSAGES", the walker's map lookup only "messages";
//   - a repeated key: a map or json.RawMessage keeps the last value, while a
//     struct field decodes each value into the same slice or object, merging
//     them.
//
// Bodies WhatsApp sends have neither, so keysReadAlike, rather than teach the
// fast path these corners, refuses a body that has either, and the walker
// reads it. It errs on the side of refusing, and looks at every object, not
// only the envelope's: it refuses any key with an upper-case letter, a
// non-ASCII byte or an escape, and any envelope member name repeated in one
// object. The members inside a message, status or error need no such care:
// there both paths decode the same structs.

// envelopeBit numbers the envelope members that are slices or pointers in the
// one-pass structs (json.RawMessage fields, such as object, keep the last
// value on both paths), 0 for other keys.
func envelopeBit(key []byte) uint16 {
	switch string(key) { // compiled without allocating
	case "entry":
		return 1 << 0
	case "changes":
		return 1 << 1
	case "value":
		return 1 << 2
	case "metadata":
		return 1 << 3
	case "contacts":
		return 1 << 4
	case "messages":
		return 1 << 5
	case "statuses":
		return 1 << 6
	case "errors":
		return 1 << 7
	}
	return 0
}

// keysReadAlike tells whether the one-pass decode reads the keys of body as
// the walker does. body must be valid JSON: it is run after json.Unmarshal
// succeeded, so it only looks for strings and braces.
func keysReadAlike(body []byte) bool {
	// seen holds, for each object open at i, the envelope members met so far.
	var buf [16]uint16
	seen := buf[:0]
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			seen = append(seen, 0)
		case '}':
			if len(seen) == 0 {
				return false
			}
			seen = seen[:len(seen)-1]
		case '"':
			end := closingQuote(body, i+1)
			if end < 0 {
				return false
			}
			if followedByColon(body, end+1) {
				key := body[i+1 : end]
				if len(seen) == 0 || !plainKey(key) {
					return false
				}
				bit := envelopeBit(key)
				if seen[len(seen)-1]&bit != 0 {
					return false
				}
				seen[len(seen)-1] |= bit
			}
			i = end
		}
	}
	return true
}

// closingQuote finds the quote that ends the string whose contents start at
// from: the first not escaped by an odd run of backslashes. -1 if none.
func closingQuote(body []byte, from int) int {
	for at := from; ; {
		q := bytes.IndexByte(body[at:], '"')
		if q < 0 {
			return -1
		}
		q += at
		backslashes := 0
		for k := q - 1; k >= from && body[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q
		}
		at = q + 1
	}
}

// followedByColon tells whether the string ending before i is an object key.
func followedByColon(body []byte, i int) bool {
	for ; i < len(body); i++ {
		switch body[i] {
		case ' ', '\t', '\r', '\n':
		case ':':
			return true
		default:
			return false
		}
	}
	return false
}

// plainKey tells whether a key, as written, can only match the struct field
// of exactly its name: encoding/json folds case, Unicode included, when no
// field has the exact name, and unescapes keys before matching.
func plainKey(key []byte) bool {
	for _, c := range key {
		if c == '\\' || c >= 0x80 || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
