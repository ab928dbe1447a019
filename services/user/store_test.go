package main

import (
	"testing"

	"github.com/doutok/doutok/services/internal/userapi"
)

func TestProfileMemoryRecallsWhatItWasToldAndStaysBounded(t *testing.T) {
	var m profileMemory
	if found, missing := m.recall([]int64{1, 2}); len(found) != 0 || len(missing) != 2 {
		t.Fatalf("empty memory: found %v, missing %v", found, missing)
	}
	m.remember([]userapi.Profile{{ID: 1, Name: "one"}})
	found, missing := m.recall([]int64{1, 2})
	if len(found) != 1 || found[0].Name != "one" || len(missing) != 1 || missing[0] != 2 {
		t.Fatalf("found %v, missing %v", found, missing)
	}
	many := make([]userapi.Profile, maxRememberedProfiles)
	for i := range many {
		many[i].ID = int64(i + 10)
	}
	m.remember(many)
	if len(m.known) > maxRememberedProfiles {
		t.Fatalf("memory holds %d profiles, bound %d", len(m.known), maxRememberedProfiles)
	}
}
