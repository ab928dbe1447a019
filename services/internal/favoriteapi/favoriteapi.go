// Package favoriteapi is the favorite service's internal API and its favorite.changed event.
package favoriteapi

import (
	"context"
	"encoding/json"
	"maps"
	"strconv"

	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/lww"
)

// AppID is the favorite service's Dapr app id.
const AppID = "favorite"

// Methods of the internal API.
const (
	MethodApply   = "likes/apply"
	MethodSummary = "likes/summary"
	MethodList    = "likes/list"
)

// The read model the favorite service publishes in the shared state store. Only the favorite
// service writes these keys; any service may read them, through Keys and DecodeSummary (the feed
// and the gateway do, in services/internal/counters). Every value is bounded: a bucket holds
// lww.BucketSize ids, a shard lww.BucketSize videos, whatever the number of likes.
const (
	VideoLikesBucket   = "favorite:likes"    // favorite_count of videos (Tally)
	UserLikedBucket    = "favorite:liked"    // favorite_count of users (Tally)
	UserReceivedBucket = "favorite:received" // total_favorited of users (Tally)
)

// LikedShardKey is the key of the lww.Set of the videos in video's bucket (lww.BucketSize ids)
// that user likes: is_favorite of a page costs one small key per bucket of the page's videos,
// however many videos the viewer likes. The shard is the authority on whether user likes video.
func LikedShardKey(user, video int64) string { return lww.BucketKey(likedShardPrefix(user), video) }

// LikedShardKeys names the shards that hold whether user likes each of videos, without repeats.
func LikedShardKeys(user int64, videos []int64) []string {
	return lww.BucketKeys(likedShardPrefix(user), videos)
}

func likedShardPrefix(user int64) string { return "favorite:likes-of-" + strconv.FormatInt(user, 10) }

// Tally is one bucket of like counts. Its entries read as lww.Counters; Pending holds the changes
// counted but not yet recorded in their pair's shard. A change is counted first, then recorded in
// the shard, then dropped from Pending: a count changes exactly once per change of a pair's state
// (see services/favorite/tally.go), and Pending holds only changes in flight.
type Tally struct {
	lww.Counters
	Pending []Pending `json:"p,omitempty"`
}

// Pending is one change counted in a Tally's entry ID and not yet recorded in the shard of the
// pair (User, Video).
type Pending struct {
	ID    int64    `json:"id"`
	User  int64    `json:"u"`
	Video int64    `json:"v"`
	Fact  lww.Fact `json:"f"`
}

// Keys names the state keys that answer r: the counts' buckets and the viewer's shards of the
// videos' buckets.
func (r SummaryRequest) Keys() []string {
	keys := lww.BucketKeys(VideoLikesBucket, r.VideoIDs)
	keys = append(keys, lww.BucketKeys(UserLikedBucket, r.UserIDs)...)
	keys = append(keys, lww.BucketKeys(UserReceivedBucket, r.UserIDs)...)
	if r.Viewer > 0 {
		keys = append(keys, LikedShardKeys(r.Viewer, r.VideoIDs)...)
	}
	return keys
}

// DecodeSummary answers r out of a bulk read of (at least) r.Keys().
func DecodeSummary(raw map[string]json.RawMessage, r SummaryRequest) (SummaryReply, error) {
	buckets := lww.NewBuckets(raw)
	reply := SummaryReply{
		Status: envelope.Success,
		Videos: make(map[int64]VideoLikes, len(r.VideoIDs)),
		Users:  make(map[int64]UserLikes, len(r.UserIDs)),
	}
	for _, id := range r.VideoIDs {
		liked := false
		if r.Viewer > 0 {
			shard := buckets.Set(LikedShardKey(r.Viewer, id))
			liked = shard.Has(id)
		}
		reply.Videos[id] = VideoLikes{Count: buckets.Count(VideoLikesBucket, id), LikedByView: liked}
	}
	for _, id := range r.UserIDs {
		reply.Users[id] = UserLikes{FavoriteCount: buckets.Count(UserLikedBucket, id), TotalFavorited: buckets.Count(UserReceivedBucket, id)}
	}
	return reply, buckets.Err()
}

// TopicFavoriteChanged carries a Changed for every like and unlike.
const TopicFavoriteChanged = "favorite.changed"

// ApplyRequest likes (Liked) or unlikes a video for a user.
type ApplyRequest struct {
	UserID  int64 `json:"user_id"`
	VideoID int64 `json:"video_id"`
	Liked   bool  `json:"liked"`
}

// Changed is one like or unlike, as published and persisted. EventID and At order the changes
// of one (user, video) pair: the latest wins, and a repeated event changes nothing.
type Changed struct {
	EventID  string `json:"event_id"`
	UserID   int64  `json:"user_id"`
	VideoID  int64  `json:"video_id"`
	AuthorID int64  `json:"author_id"`
	Liked    bool   `json:"liked"`
	At       int64  `json:"at"`
}

// Fact is the change as a last-writer-wins fact about the (user, video) pair.
func (c Changed) Fact() lww.Fact { return lww.Fact{In: c.Liked, At: c.At, Event: c.EventID} }

// Valid reports whether a change names everything it needs: one that does not is poison.
func (c Changed) Valid() bool {
	return c.EventID != "" && c.UserID > 0 && c.VideoID > 0 && c.AuthorID > 0 && c.At > 0
}

// SummaryRequest asks for like counts of videos and users, and which videos Viewer likes.
type SummaryRequest struct {
	Viewer   int64   `json:"viewer"`
	VideoIDs []int64 `json:"video_ids"`
	UserIDs  []int64 `json:"user_ids"`
}

// VideoLikes is what the favorite service knows of one video.
type VideoLikes struct {
	Count       int64 `json:"count"`
	LikedByView bool  `json:"liked_by_viewer"`
}

// UserLikes is what the favorite service knows of one user.
type UserLikes struct {
	FavoriteCount  int64 `json:"favorite_count"`
	TotalFavorited int64 `json:"total_favorited"`
}

// SummaryReply answers a summary; every requested id is present.
type SummaryReply struct {
	envelope.Status
	Videos map[int64]VideoLikes `json:"videos"`
	Users  map[int64]UserLikes  `json:"users"`
}

// MaxListed caps a favorite list: the newest MaxListed liked videos, most recently liked first.
const MaxListed = 1000

// ListRequest asks for the videos a user likes.
type ListRequest struct {
	UserID int64 `json:"user_id"`
}

// ListReply lists liked video ids, most recently liked first, at most MaxListed.
type ListReply struct {
	envelope.Status
	VideoIDs []int64 `json:"video_ids"`
}

// Client calls the favorite service.
type Client struct{ dapr *daprc.Client }

// NewClient returns a client that invokes the favorite service through dapr.
func NewClient(dapr *daprc.Client) *Client { return &Client{dapr: dapr} }

// Apply likes or unlikes a video; it returns once the change is visible and durable in the broker.
func (c *Client) Apply(ctx context.Context, req ApplyRequest) error {
	return c.dapr.Invoke(ctx, AppID, MethodApply, req, nil)
}

// MaxSummaryIDs bounds the video and user ids of one summary request together.
const MaxSummaryIDs = 2000

// Summary returns like counts and the viewer's likes, in requests of at most MaxSummaryIDs ids.
func (c *Client) Summary(ctx context.Context, req SummaryRequest) (SummaryReply, error) {
	reply := SummaryReply{
		Videos: make(map[int64]VideoLikes, len(req.VideoIDs)),
		Users:  make(map[int64]UserLikes, len(req.UserIDs)),
	}
	for _, part := range req.parts(MaxSummaryIDs) {
		var partReply SummaryReply
		if err := c.dapr.Invoke(ctx, AppID, MethodSummary, part, &partReply); err != nil {
			return SummaryReply{}, err
		}
		reply.Status = partReply.Status
		maps.Copy(reply.Videos, partReply.Videos)
		maps.Copy(reply.Users, partReply.Users)
	}
	return reply, nil
}

// parts splits a request into requests of at most max ids, half videos and half users; a
// request with no ids at all is one (empty) part.
func (r SummaryRequest) parts(max int) []SummaryRequest {
	half := max / 2
	var out []SummaryRequest
	for start := 0; start == 0 || start < len(r.VideoIDs) || start < len(r.UserIDs); start += half {
		out = append(out, SummaryRequest{Viewer: r.Viewer, VideoIDs: window(r.VideoIDs, start, half), UserIDs: window(r.UserIDs, start, half)})
	}
	return out
}

func window(ids []int64, start, n int) []int64 {
	return ids[min(start, len(ids)):min(start+n, len(ids))]
}

// List returns the ids of the videos a user likes, most recently liked first.
func (c *Client) List(ctx context.Context, userID int64) ([]int64, error) {
	var reply ListReply
	err := c.dapr.Invoke(ctx, AppID, MethodList, ListRequest{UserID: userID}, &reply)
	return reply.VideoIDs, err
}
