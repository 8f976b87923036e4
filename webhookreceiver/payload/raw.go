package payload

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Raw returns the JSON of the element at path (an Element.Path) in body,
// byte for byte as WhatsApp sent it, so that an element the operator refuses
// can be kept verbatim for a person to inspect.
func Raw(body []byte, path string) (json.RawMessage, error) {
	cur := json.RawMessage(body)
	for seg := range strings.SplitSeq(path, ".") {
		name, index, hasIndex, err := splitSegment(seg)
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", path, err)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(cur, &obj); err != nil {
			return nil, fmt.Errorf("path %q: %s is not in an object", path, name)
		}
		member, ok := obj[name]
		if !ok {
			return nil, fmt.Errorf("path %q: no member %s", path, name)
		}
		cur = member
		if !hasIndex {
			continue
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(cur, &elems); err != nil || index >= len(elems) {
			return nil, fmt.Errorf("path %q: %s has no element %d", path, name, index)
		}
		cur = elems[index]
	}
	return cur, nil
}

// splitSegment splits "messages[2]" into "messages" and 2.
func splitSegment(seg string) (name string, index int, hasIndex bool, err error) {
	open := strings.IndexByte(seg, '[')
	if open < 0 {
		return seg, 0, false, nil
	}
	if !strings.HasSuffix(seg, "]") {
		return "", 0, false, fmt.Errorf("segment %q has no closing bracket", seg)
	}
	index, err = strconv.Atoi(seg[open+1 : len(seg)-1])
	if err != nil || index < 0 {
		return "", 0, false, fmt.Errorf("segment %q has no index", seg)
	}
	return seg[:open], index, true, nil
}
