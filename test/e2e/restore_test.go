//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// The state store loses its data (a Redis that came back empty, a flush): the favorite and
// comment services notice and rebuild their hot model from PostgreSQL, so counts, "liked" flags
// and lists come back exactly as they were.
func TestLostHotModelIsRestoredFromPostgres(t *testing.T) {
	author, fan, other := register(t, "restauthor"), register(t, "restfan"), register(t, "restother")
	v := publishedVideo(t, author)
	like(t, fan, v, 1).expect(t, 200, 0)
	like(t, other, v, 1).expect(t, 200, 0)
	like(t, other, v, 2).expect(t, 200, 0)
	comment(t, fan, v, "still here after the cache is gone").expect(t, 200, 0)
	var gone struct {
		Comment commentJSON `json:"comment"`
	}
	comment(t, other, v, "deleted before the cache is gone").expect(t, 200, 0).decode(t, &gone)
	deleteComment(t, other, v, gone.Comment.ID).expect(t, 200, 0)

	db := openDB(t)
	waitPersisted(t, db, 2, `SELECT count(*) FROM favorite.likes WHERE video_id = $1`, v)
	waitPersisted(t, db, 1, `SELECT count(*) FROM comment.comments WHERE video_id = $1 AND deleted`, v)
	waitPersisted(t, db, 1, `SELECT count(*) FROM comment.comments WHERE video_id = $1 AND NOT deleted`, v)

	// While the restore runs, counts and lists may be incomplete (README): the fan's own list
	// may show the video before the fan's shard says it is liked. So the view records those
	// flags, and the check waits for them to come back with the rest.
	type view struct {
		video     counted
		fan       userCounts
		liked     []int64
		unflagged []int64 // videos of the fan's own list shown with is_favorite false
		comments  []commentJSON
	}
	look := func() view {
		liked, unflagged, _ := favoriteListFlags(t, fan, fan.ID)
		return view{
			video:     videoAsSeenBy(t, fan, author.ID, v),
			fan:       userInfo(t, fan, fan.ID),
			liked:     liked,
			unflagged: unflagged,
			comments:  comments(t, fan, v),
		}
	}
	same := func(a, b view) bool {
		return a.video == b.video && a.fan == b.fan && slices.Equal(a.liked, b.liked) &&
			slices.Equal(a.unflagged, b.unflagged) && slices.Equal(a.comments, b.comments)
	}
	before := look()
	if before.video.FavoriteCount != 1 || !before.video.IsFavorite || before.video.Author.TotalFavorited != 1 ||
		before.fan.FavoriteCount != 1 || len(before.comments) != 1 || before.video.CommentCount != 1 || len(before.unflagged) != 0 {
		t.Fatalf("before the loss: %+v", before)
	}

	wiped, err := stack.WipeStateStore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if wiped == 0 {
		t.Fatal("the state store had no keys to lose")
	}
	eventually(t, 60*time.Second, func() (bool, string) {
		now := look()
		return same(now, before), fmt.Sprintf("after losing %d keys, the hot model did not come back:\nbefore %+v\nnow    %+v", wiped, before, now)
	})
}
