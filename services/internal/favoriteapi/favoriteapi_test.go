package favoriteapi

import (
	"slices"
	"testing"
)

func TestSummaryPartsStayWithinTheLimitAndCoverEveryID(t *testing.T) {
	ids := func(n int) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(i + 1)
		}
		return out
	}
	for _, c := range []struct{ videos, users int }{{0, 0}, {30, 20}, {250, 250}, {251, 1}, {1200, 3}, {2, 700}} {
		req := SummaryRequest{Viewer: 9, VideoIDs: ids(c.videos), UserIDs: ids(c.users)}
		var videos, users []int64
		parts := req.parts(MaxSummaryIDs)
		for _, p := range parts {
			if len(p.VideoIDs)+len(p.UserIDs) > MaxSummaryIDs || p.Viewer != 9 {
				t.Fatalf("%+v: a part of %d videos and %d users, viewer %d", c, len(p.VideoIDs), len(p.UserIDs), p.Viewer)
			}
			videos = append(videos, p.VideoIDs...)
			users = append(users, p.UserIDs...)
		}
		if !slices.Equal(videos, req.VideoIDs) || !slices.Equal(users, req.UserIDs) || len(parts) == 0 {
			t.Fatalf("%+v: parts cover %d videos and %d users in %d parts", c, len(videos), len(users), len(parts))
		}
	}
}
