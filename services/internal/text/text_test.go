package text

import (
	"strings"
	"testing"
)

func TestCleanRefusesControlCharactersAndInvalidUTF8(t *testing.T) {
	for s, ok := range map[string]bool{
		"alice": true, "抖音 🙂": true, "a b": true, "": true,
		"a\x00b": false, "a\nb": false, "a\tb": false, "a\x1bb": false, "a\x7fb": false, "a\u0085b": false, "\xff": false,
	} {
		if Clean(s) != ok {
			t.Errorf("Clean(%q) = %v, want %v", s, !ok, ok)
		}
	}
}

func TestBodyAllowsNewlinesAndTabsOnly(t *testing.T) {
	for s, ok := range map[string]bool{
		"hi": true, "line one\nline two\tend": true, strings.Repeat("字", 30): true,
		strings.Repeat("字", 31): false, "": false, " \n\t\u3000": false,
		"a\x00b": false, "a\rb": false, "a\x1bb": false, "a\x7fb": false, "\xff": false,
	} {
		if Body(s, 30) != ok {
			t.Errorf("Body(%q, 30) = %v, want %v", s, !ok, ok)
		}
	}
}
