package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
)

func TestUploadSlotsCapAllAndEachUser(t *testing.T) {
	s := newUploadSlots(3, 2)
	for range 3 {
		if err := s.take(anonymous); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.take(anonymous); !apperr.Is(err, apperr.UploadsBusy) {
		t.Fatalf("a fourth upload: %v, want UploadsBusy", err)
	}
	s.give(anonymous)
	if err := s.take(anonymous); err != nil {
		t.Fatalf("a slot given back is free again: %v", err)
	}
	if s.take(7) != nil || s.take(7) != nil || !apperr.Is(s.take(7), apperr.TooManyUploads) {
		t.Fatal("a user gets two upload slots, not three")
	}
	if err := s.take(8); err != nil {
		t.Fatalf("another user's slot: %v", err)
	}
	s.give(7)
	if err := s.take(7); err != nil {
		t.Fatalf("a user's slot given back is free again: %v", err)
	}
	rec := httptest.NewRecorder()
	envelope.Error(rec, httptest.NewRequest(http.MethodPost, "/douyin/publish/action/", nil), s.take(7))
	if rec.Header().Get("Retry-After") != "10" {
		t.Fatalf("Retry-After = %q", rec.Header().Get("Retry-After"))
	}
}
