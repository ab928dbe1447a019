package main

import (
	"strings"
	"testing"

	"github.com/doutok/doutok/services/internal/commentapi"
)

func TestValidateContent(t *testing.T) {
	for content, ok := range map[string]bool{
		"hi": true, strings.Repeat("字", 500): true, "": false, "  \n": false, strings.Repeat("a", 501): false, "\xff": false,
	} {
		if err := commentapi.ValidateContent(content); (err == nil) != ok {
			t.Errorf("ValidateContent(%q) = %v, want ok=%v", content, err, ok)
		}
	}
}
