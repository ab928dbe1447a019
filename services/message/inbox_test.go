package main

import (
	"errors"
	"testing"

	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/messageapi"
)

func TestInboxKeepsTheLatestMessageOfEachConversation(t *testing.T) {
	msg := func(id, from, to, at int64) messageapi.Message {
		return messageapi.Message{ID: id, FromUserID: from, ToUserID: to, Content: "m", CreateTime: at}
	}
	var in inbox
	if err := in.record(2, msg(1, 1, 2, 10), nil); !errors.Is(err, errNotStarted) {
		t.Fatalf("an inbox that does not exist must be started from PostgreSQL first, got %v", err)
	}
	seed := map[int64]messageapi.Message{3: msg(7, 3, 1, 5)}
	if err := in.record(2, msg(1, 1, 2, 10), seed); err != nil || !in.Started {
		t.Fatalf("seeded record: %v, started %v", err, in.Started)
	}
	if err := in.record(2, msg(2, 2, 1, 11), nil); err != nil {
		t.Fatal(err)
	}
	if err := in.record(2, msg(1, 1, 2, 10), nil); !errors.Is(err, hotmodel.ErrUnchanged) {
		t.Fatalf("an older message must change nothing, got %v", err)
	}
	if in.Latest[2].ID != 2 || in.Latest[3].ID != 7 || len(in.Latest) != 2 {
		t.Fatalf("latest = %+v", in.Latest)
	}
	if peerOf(1, msg(2, 2, 1, 11)) != 2 || peerOf(1, msg(1, 1, 2, 10)) != 2 {
		t.Fatal("peerOf must name the other person")
	}
}
