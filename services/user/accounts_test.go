package main

import (
	"strings"
	"testing"
)

func TestValidateUsername(t *testing.T) {
	for name, ok := range map[string]bool{
		"alice": true, strings.Repeat("抖", 32): true, "a'b\"c;--": true, "🙂": true,
		"": false, strings.Repeat("a", 33): false, "a b": false, "a\u00a0b": false, "a\tb": false,
		"a\x00b": false, "a\u200bb": true, "\xff": false,
	} {
		if err := validateUsername(name); (err == nil) != ok {
			t.Errorf("validateUsername(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	for pw, ok := range map[string]bool{"123456": true, strings.Repeat("x", 32): true, "12345": false, strings.Repeat("x", 33): false} {
		if err := validatePassword(pw); (err == nil) != ok {
			t.Errorf("validatePassword(%d bytes) = %v, want ok=%v", len(pw), err, ok)
		}
	}
}
