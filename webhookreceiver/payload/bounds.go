package payload

// MaxArrayMembers bounds the members of all the arrays of a body together:
// entries, changes, messages, statuses, contacts, errors and the items of
// carts. WhatsApp batches at most about 1,000 updates in one body; the bound
// leaves room for every one of them to be a cart of 50 items. Every element
// of a body is an array member, so it bounds the elements too.
//
// A body within MaxBodyBytes may otherwise hold over two million of them
// ("[1,1,1,..."), and what Parse allocates grows with their number, not with
// the bytes: hundreds of bytes for a two-byte member. The bound is checked
// before anything is decoded, by countArrayMembers, so a body over it costs
// one pass over its bytes.
const MaxArrayMembers = 50_000

// maxDepth is encoding/json's bound on nesting: json.Unmarshal refuses a body
// nested deeper, so the count may stop looking there.
const maxDepth = 10_000

// countArrayMembers counts the members of every array in body, stopping as
// soon as the count passes limit. It reads body as JSON without checking it:
// json.Unmarshal checks it afterwards, and for a body that is not JSON the
// count means nothing but costs no more. It allocates only the stack of
// open containers, at most maxDepth deep.
func countArrayMembers(body []byte, limit int) int {
	// inArray[d] tells whether the container open at depth d is an array.
	var inArray []bool
	n := 0
	first := false // just after '[': the next value is a first member
	for i := 0; i < len(body) && n <= limit; i++ {
		c := body[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			// Skip the string; a backslash escapes the byte after it.
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
		case ',':
			if len(inArray) > 0 && inArray[len(inArray)-1] {
				n++
			}
			continue
		case ']', '}':
			if len(inArray) > 0 {
				inArray = inArray[:len(inArray)-1]
			}
			first = false
			continue
		}
		if first {
			n++
			first = false
		}
		switch c {
		case '[':
			if len(inArray) == maxDepth {
				return n
			}
			inArray = append(inArray, true)
			first = true
		case '{':
			if len(inArray) == maxDepth {
				return n
			}
			inArray = append(inArray, false)
		}
	}
	return n
}
