package server

import (
	"slices"
	"strings"
)

// parseScope splits a scope parameter (RFC 6749 §3.3): space-delimited,
// case-sensitive tokens of printable ASCII other than space, '"' and '\'.
// Duplicates are dropped; order is kept.
func parseScope(s string) ([]string, error) {
	var out []string
	for _, tok := range strings.Split(s, " ") {
		if tok == "" {
			continue
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return nil, &Error{Code: "invalid_scope", Description: "malformed scope", Status: 400}
			}
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out, nil
}

// grantScope returns the scope to grant for a request asking for requested
// (a scope parameter, possibly empty) when allowed scopes may be granted.
// An empty request gets every allowed scope; asking for anything else is
// invalid_scope.
func grantScope(requested string, allowed []string) (string, error) {
	want, err := parseScope(requested)
	if err != nil {
		return "", err
	}
	if len(want) == 0 {
		return strings.Join(allowed, " "), nil
	}
	for _, w := range want {
		if !slices.Contains(allowed, w) {
			return "", &Error{
				Code: "invalid_scope", Status: 400,
				Description: "scope " + truncate(w, 40) + " is not allowed for this client",
			}
		}
	}
	return strings.Join(want, " "), nil
}

// hasScope reports whether the space-separated scope list contains want.
func hasScope(scopes []string, want string) bool {
	return slices.Contains(scopes, want)
}
