// Package relationapi is the relation service's internal API, its relation.changed event, and
// the read model it publishes in the shared state store.
package relationapi

import (
	"context"
	"encoding/json"
	"maps"
	"strconv"

	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/lww"
)

// AppID is the relation service's Dapr app id.
const AppID = "relation"

// Methods of the internal API.
const (
	MethodApply   = "follows/apply"
	MethodSummary = "follows/summary"
	MethodList    = "follows/list"
)

// The read model the relation service publishes in the shared state store. Only the relation
// service writes these keys; any service may read them (the feed and the gateway do, through
// services/internal/counters). Buckets are lww.Counters (see lww.BucketKey).
const (
	FollowCountBucket   = "relation:follow-count"   // follow_count of users
	FollowerCountBucket = "relation:follower-count" // follower_count of users
)

// FollowsShardKey is the key of the lww.Set of the users in target's bucket (lww.BucketSize
// ids) that follower follows: is_follow of a page of users costs one small key per bucket of
// ids on the page, however many users the viewer follows.
func FollowsShardKey(follower, target int64) string {
	return lww.BucketKey(followsShardPrefix(follower), target)
}

// FollowsShardKeys names the shards that hold whether follower follows each of targets, without
// repeats.
func FollowsShardKeys(follower int64, targets []int64) []string {
	return lww.BucketKeys(followsShardPrefix(follower), targets)
}

func followsShardPrefix(follower int64) string {
	return "relation:follows-" + strconv.FormatInt(follower, 10)
}

// TopicRelationChanged carries a Changed for every follow and unfollow.
const TopicRelationChanged = "relation.changed"

// ApplyRequest makes FollowerID follow (Follow) or unfollow FolloweeID.
type ApplyRequest struct {
	FollowerID int64 `json:"follower_id"`
	FolloweeID int64 `json:"followee_id"`
	Follow     bool  `json:"follow"`
}

// Changed is one follow or unfollow, as published and persisted. EventID and At order the
// changes of one (follower, followee) pair: the latest wins, and a repeated event changes nothing.
type Changed struct {
	EventID    string `json:"event_id"`
	FollowerID int64  `json:"follower_id"`
	FolloweeID int64  `json:"followee_id"`
	Follow     bool   `json:"follow"`
	At         int64  `json:"at"`
}

// Fact is the change as a last-writer-wins fact about the (follower, followee) pair.
func (c Changed) Fact() lww.Fact { return lww.Fact{In: c.Follow, At: c.At, Event: c.EventID} }

// Valid reports whether a change names everything it needs: one that does not is poison.
func (c Changed) Valid() bool {
	return c.EventID != "" && c.FollowerID > 0 && c.FolloweeID > 0 && c.FollowerID != c.FolloweeID && c.At > 0
}

// SummaryRequest asks for the follow counts of users, and which of them Viewer follows.
type SummaryRequest struct {
	Viewer  int64   `json:"viewer"`
	UserIDs []int64 `json:"user_ids"`
}

// Keys names the state keys that answer r: the counts' buckets and the viewer's shards.
func (r SummaryRequest) Keys() []string {
	keys := lww.BucketKeys(FollowCountBucket, r.UserIDs)
	keys = append(keys, lww.BucketKeys(FollowerCountBucket, r.UserIDs)...)
	if r.Viewer > 0 {
		keys = append(keys, FollowsShardKeys(r.Viewer, r.UserIDs)...)
	}
	return keys
}

// DecodeSummary answers r out of a bulk read of (at least) r.Keys(): the relation service's own
// summary and every reader of its read model decode it here.
func DecodeSummary(raw map[string]json.RawMessage, r SummaryRequest) (map[int64]UserFollows, error) {
	buckets := lww.NewBuckets(raw)
	out := make(map[int64]UserFollows, len(r.UserIDs))
	for _, id := range r.UserIDs {
		followed := false
		if r.Viewer > 0 {
			shard := buckets.Set(FollowsShardKey(r.Viewer, id))
			followed = shard.Has(id)
		}
		out[id] = UserFollows{
			FollowCount:      buckets.Count(FollowCountBucket, id),
			FollowerCount:    buckets.Count(FollowerCountBucket, id),
			FollowedByViewer: followed,
		}
	}
	return out, buckets.Err()
}

// UserFollows is what the relation service knows of one user, relative to a viewer.
type UserFollows struct {
	FollowCount      int64 `json:"follow_count"`
	FollowerCount    int64 `json:"follower_count"`
	FollowedByViewer bool  `json:"followed_by_viewer"`
}

// SummaryReply answers a summary; every requested id is present.
type SummaryReply struct {
	envelope.Status
	Users map[int64]UserFollows `json:"users"`
}

// Lists a ListRequest can ask for.
const (
	ListFollowing = "following" // whom the user follows
	ListFollowers = "followers" // who follows the user
	ListFriends   = "friends"   // mutual follows
)

// ListRequest asks for one of a user's lists.
type ListRequest struct {
	UserID int64  `json:"user_id"`
	List   string `json:"list"`
}

// ListReply lists user ids, most recently followed first.
type ListReply struct {
	envelope.Status
	UserIDs []int64 `json:"user_ids"`
}

// Client calls the relation service.
type Client struct{ dapr *daprc.Client }

// NewClient returns a client that invokes the relation service through dapr.
func NewClient(dapr *daprc.Client) *Client { return &Client{dapr: dapr} }

// Apply follows or unfollows; it returns once the change is visible and durable in the broker.
func (c *Client) Apply(ctx context.Context, req ApplyRequest) error {
	return c.dapr.Invoke(ctx, AppID, MethodApply, req, nil)
}

// MaxSummaryIDs bounds the user ids of one summary request.
const MaxSummaryIDs = 1000

// Summary returns the follow counts of users and whether the viewer follows each, in requests of
// at most MaxSummaryIDs ids.
func (c *Client) Summary(ctx context.Context, viewer int64, userIDs []int64) (map[int64]UserFollows, error) {
	users := make(map[int64]UserFollows, len(userIDs))
	err := daprc.InChunks(userIDs, MaxSummaryIDs, func(part []int64) error {
		var reply SummaryReply
		err := c.dapr.Invoke(ctx, AppID, MethodSummary, SummaryRequest{Viewer: viewer, UserIDs: part}, &reply)
		maps.Copy(users, reply.Users)
		return err
	})
	return users, err
}

// List returns one of a user's lists (ListFollowing, ListFollowers, ListFriends).
func (c *Client) List(ctx context.Context, userID int64, list string) ([]int64, error) {
	var reply ListReply
	err := c.dapr.Invoke(ctx, AppID, MethodList, ListRequest{UserID: userID, List: list}, &reply)
	return reply.UserIDs, err
}
