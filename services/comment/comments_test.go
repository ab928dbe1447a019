package main

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/doutok/doutok/services/internal/commentapi"
)

func TestCommentSetAppliesEachChangeOnceAndDeletionIsFinal(t *testing.T) {
	added := commentapi.Changed{EventID: "a", Comment: commentapi.Comment{ID: 1, VideoID: 9, UserID: 5, Content: "hi", CreatedAt: 10}}
	deleted := commentapi.Changed{EventID: "b", Comment: added.Comment, Deleted: true}
	other := commentapi.Changed{EventID: "c", Comment: commentapi.Comment{ID: 2, VideoID: 9, UserID: 6, Content: "yo", CreatedAt: 20}}
	changes := []commentapi.Changed{added, deleted, other, added, other, deleted}
	for round := 0; round < 100; round++ {
		var s commentSet
		for _, i := range rand.Perm(len(changes)) {
			s.apply(changes[i])
		}
		list := s.newest(9)
		if s.count() != 1 || len(list) != 1 || list[0].ID != 2 || list[0].Content != "yo" {
			t.Fatalf("round %d: count %d, list %+v", round, s.count(), list)
		}
	}
}

func TestValidateContent(t *testing.T) {
	for content, ok := range map[string]bool{
		"hi": true, strings.Repeat("字", 500): true, "": false, "  \n": false, strings.Repeat("a", 501): false, "\xff": false,
	} {
		if err := commentapi.ValidateContent(content); (err == nil) != ok {
			t.Errorf("ValidateContent(%q) = %v, want ok=%v", content, err, ok)
		}
	}
}
