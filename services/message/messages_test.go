package main

import (
	"strings"
	"testing"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/messageapi"
)

func TestValidateContent(t *testing.T) {
	for content, ok := range map[string]bool{
		"hi":                        true,
		"line one\nline two\tend":   true,
		strings.Repeat("字", 1000):   true,
		strings.Repeat("a", 1001):   false,
		strings.Repeat("字", 1001):   false,
		"":                          false,
		" \n\t\u3000":               false,
		"a\x00b":                    false,
		"a\rb":                      false,
		"a\x1bb":                    false,
		"a\x7fb":                    false,
		"a\u0085b":                  false,
		"\xff":                      false,
		"emoji 👋 and accents éà ok": true,
	} {
		err := messageapi.ValidateContent(content)
		if (err == nil) != ok {
			t.Errorf("ValidateContent(%q) = %v, want ok=%v", content, err, ok)
		}
		if err != nil && !apperr.Is(err, apperr.InvalidMessage) {
			t.Errorf("ValidateContent(%q) = %v, want InvalidMessage", content, err)
		}
	}
}

func TestAnEventWithContentTheSendRefusesIsPoison(t *testing.T) {
	e := messageapi.Sent{EventID: "e", Message: messageapi.Message{ID: 1, FromUserID: 1, ToUserID: 2, Content: "ok"}}
	if !valid(e) {
		t.Fatal("a good event was refused")
	}
	e.Message.Content = "a\x00b"
	if valid(e) {
		t.Fatal("an event with a NUL was accepted")
	}
}
