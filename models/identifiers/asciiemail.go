package identifiers

import "strings"

// asciiEmail is Normalize's fast path for an email address already in its
// canonical form, as a sending pipeline sends back what the console
// answered: lower-case ASCII, a dot-atom local part of letters, digits and
// "._+-", and a domain of at least two labels of letters, digits and inner
// hyphens (no "--" anywhere, so no punycode), each 1-63 bytes, 253 in all.
// Such an address is its own NFKC form, its own case fold and its own IDNA
// ASCII form, and net/mail reads it back unchanged, so the full path
// returns it as it is. Anything else reports false and takes the full path.
// Held to it by FuzzASCIIEmailFastPath and TestASCIIEmailFastPath.
func asciiEmail(s string) (Identifier, bool) {
	if len(s) > maxLen {
		return Identifier{}, false
	}
	at := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			if at >= 0 {
				return Identifier{}, false
			}
			at = i
		}
	}
	if at < 1 || !dotAtom(s[:at]) || !plainDomain(s[at+1:]) {
		return Identifier{}, false
	}
	return Identifier{Kind: KindEmail, Value: strings.Clone(s)}, true // s may hold a large buffer
}

// dotAtom: parts of [a-z0-9_+-], joined by single dots.
func dotAtom(s string) bool {
	prev := byte('.')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if prev == '.' {
				return false
			}
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_', c == '+', c == '-':
		default:
			return false
		}
		prev = c
	}
	return prev != '.'
}

// plainDomain: two or more labels of [a-z0-9-], 1-63 bytes each, not
// starting or ending with "-", no "--", 253 bytes in all.
func plainDomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	labels, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') || (c == '-' && i > start && s[i-1] == '-') {
				return false
			}
			continue
		}
		label := s[start:i]
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		labels++
		start = i + 1
	}
	return labels >= 2
}
