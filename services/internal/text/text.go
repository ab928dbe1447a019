// Package text holds the rules every text a user sends must meet before anything is
// acknowledged: valid UTF-8 without control characters, so that whatever reaches the broker
// PostgreSQL can store (it refuses NUL and invalid UTF-8) and no client renders a stray escape.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean reports whether s is valid UTF-8 without control characters: names, titles, passwords.
func Clean(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// CleanBody reports whether s is valid UTF-8 whose only control characters are newline and tab:
// comments and messages, which may have several lines.
func CleanBody(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\t'
	})
}

// Body reports whether s is a clean body (CleanBody) of 1 to max characters that is not only
// spaces.
func Body(s string, max int) bool {
	n := utf8.RuneCountInString(s)
	return n >= 1 && n <= max && strings.TrimSpace(s) != "" && CleanBody(s)
}
