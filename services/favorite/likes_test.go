package main

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"

	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/lww"
)

// memoryStore is an in-memory state store with the Redis store's ETag rules (a version per key,
// incremented by each write; a missing key is written whatever ETag comes with the write, and
// starts again at version 1), for the calls the hot model makes.
type memoryStore struct {
	dapr.Client // nil: any other call panics

	mu       sync.Mutex
	values   map[string][]byte
	versions map[string]int
}

func newMemoryStore() *memoryStore {
	return &memoryStore{values: map[string][]byte{}, versions: map[string]int{}}
}

func (m *memoryStore) GetState(_ context.Context, _, key string, _ map[string]string) (*dapr.StateItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.values[key]; ok {
		return &dapr.StateItem{Key: key, Value: v, Etag: strconv.Itoa(m.versions[key])}, nil
	}
	return &dapr.StateItem{Key: key}, nil
}

func (m *memoryStore) GetBulkState(ctx context.Context, store string, keys []string, meta map[string]string, _ int32) ([]*dapr.BulkStateItem, error) {
	var out []*dapr.BulkStateItem
	for _, k := range keys {
		item, _ := m.GetState(ctx, store, k, meta)
		out = append(out, &dapr.BulkStateItem{Key: k, Value: item.Value, Etag: item.Etag})
	}
	return out, nil
}

func (m *memoryStore) SaveStateWithETag(_ context.Context, _, key string, data []byte, etag string, _ map[string]string, _ ...dapr.StateOption) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, exists := m.values[key]; exists && etag != strconv.Itoa(m.versions[key]) {
		return errors.New("possible etag mismatch")
	}
	m.values[key], m.versions[key] = data, m.versions[key]+1
	return nil
}

// wipe loses every key, as a Redis that came back empty.
func (m *memoryStore) wipe() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.values)
	clear(m.versions)
}

// replica is one favorite process on the shared store: its own combiner and memory of finished changes, as
// hotmodel.Open gives them.
func replica(m *memoryStore) *likes {
	return newLikes(hotmodel.Store{SDK: m, Name: "statestore", Combine: hotmodel.NewCombiner(), Finished: hotmodel.NewFinished(1000)}, nil, nil, nil)
}

var at int64 = 1_700_000_000_000

func change(user, video, author int64, liked bool) favoriteapi.Changed {
	at++
	return favoriteapi.Changed{EventID: uuid.NewString(), UserID: user, VideoID: video, AuthorID: author, Liked: liked, At: at}
}

func summaryOf(t *testing.T, l *likes, viewer int64, videos, users []int64) favoriteapi.SummaryReply {
	t.Helper()
	req := favoriteapi.SummaryRequest{Viewer: viewer, VideoIDs: videos, UserIDs: users}
	raw, err := hotmodel.GetMany[json.RawMessage](context.Background(), l.hot, req.Keys())
	if err != nil {
		t.Fatal(err)
	}
	reply, err := favoriteapi.DecodeSummary(raw, req)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

func TestCountsAreExactUnderConcurrentTogglesOnTwoReplicas(t *testing.T) {
	m := newMemoryStore()
	replicas := []*likes{replica(m), replica(m)}
	const users, videos, author = 40, 5, 7
	var wg sync.WaitGroup
	final := make([][]bool, users+1)
	for u := int64(1); u <= users; u++ {
		final[u] = make([]bool, videos+1)
		wg.Go(func() {
			for round := range 4 {
				for v := int64(1); v <= videos; v++ {
					liked := (u+v+int64(round))%3 != 0
					c := change(u, v, author, liked)
					if err := replicas[rand.IntN(2)].makeVisible(context.Background(), c); err != nil {
						t.Error(err)
					}
					final[u][v] = liked
				}
			}
		})
	}
	wg.Wait()
	videoIDs := []int64{1, 2, 3, 4, 5}
	var total int64
	for v := range int64(videos + 1) {
		if v == 0 {
			continue
		}
		var want int64
		for u := 1; u <= users; u++ {
			if final[u][v] {
				want++
			}
		}
		total += want
		if got := summaryOf(t, replicas[0], 0, videoIDs, nil).Videos[v].Count; got != want {
			t.Fatalf("video %d has %d likes, want %d", v, got, want)
		}
	}
	for u := int64(1); u <= users; u++ {
		var want int64
		for v := 1; v <= videos; v++ {
			if final[u][v] {
				want++
			}
		}
		s := summaryOf(t, replicas[1], u, videoIDs, []int64{u, author})
		if s.Users[u].FavoriteCount != want || s.Users[author].TotalFavorited != total {
			t.Fatalf("user %d: %+v, want %d liked and %d received by the author", u, s.Users, want, total)
		}
		for v := int64(1); v <= videos; v++ {
			if s.Videos[v].LikedByView != final[u][v] {
				t.Fatalf("user %d sees video %d liked=%v", u, v, s.Videos[v].LikedByView)
			}
		}
	}
	for key, value := range m.values {
		var tally favoriteapi.Tally
		if json.Unmarshal(value, &tally) == nil && len(tally.Pending) > 0 {
			t.Fatalf("%s keeps %d pending changes after every change settled", key, len(tally.Pending))
		}
	}
}

func TestReplaysAndLateChangesCountNothingTwice(t *testing.T) {
	m := newMemoryStore()
	l := replica(m)
	ctx := context.Background()
	old := change(1, 10, 3, false) // older than the like: arrives late
	like := change(1, 10, 3, true)
	for _, c := range []favoriteapi.Changed{like, like, old, like} {
		if err := l.makeVisible(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// A request that died after counting: the consumer's run finishes it, once.
	second := change(2, 10, 3, true)
	for _, tl := range talliesOf(second) {
		if err := l.count(ctx, tl, second); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.ensureVisible(ctx, second); err != nil {
		t.Fatal(err)
	}
	if err := l.ensureVisible(ctx, second); err != nil {
		t.Fatal(err)
	}
	s := summaryOf(t, l, 2, []int64{10}, []int64{1, 2, 3})
	if s.Videos[10].Count != 2 || !s.Videos[10].LikedByView || s.Users[1].FavoriteCount != 1 || s.Users[3].TotalFavorited != 2 {
		t.Fatalf("after replays: %+v", s)
	}
}

// The hot keys stay small however many likes a video has or a user gives: a video liked by
// 2,000 users and a user who liked 2,000 videos (that one among them) and unliked half.
func TestHotKeysStayBounded(t *testing.T) {
	m := newMemoryStore()
	l := replica(m)
	ctx := context.Background()
	const n = 2000
	for i := int64(1); i <= n; i++ {
		for _, c := range []favoriteapi.Changed{change(i, 1, 9, true), change(1, i, 9, true)} {
			if err := l.makeVisible(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if i%2 == 0 {
			if err := l.makeVisible(ctx, change(1, i, 9, false)); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := summaryOf(t, l, 1, []int64{1, 2, 3}, []int64{1, 9})
	if s.Videos[1].Count != n || s.Users[1].FavoriteCount != n/2 || s.Users[9].TotalFavorited != n+n/2-1 || !s.Videos[1].LikedByView || !s.Videos[3].LikedByView || s.Videos[2].LikedByView {
		t.Fatalf("counts after %d likes: %+v", n, s)
	}
	largest, which := 0, ""
	for key, value := range m.values {
		if len(value) > largest {
			largest, which = len(value), key
		}
	}
	// A window of recentSize changes is the largest value: about 80 bytes a change.
	if largest > recentSize*100 {
		t.Fatalf("%s holds %d bytes after %d likes", which, largest, n)
	}
	t.Logf("largest value: %s, %d bytes, of %d keys", which, largest, len(m.values))
}

func TestWindowKeepsTheNewestChanges(t *testing.T) {
	var recent lww.Set
	for i := int64(1); i <= recentSize+20; i++ {
		remember(&recent, i, lww.Fact{In: true, At: 1000 + i, Event: "e"})
	}
	if len(recent.Members) != recentSize {
		t.Fatalf("window of %d changes", len(recent.Members))
	}
	ids := recent.Newest()
	if ids[0] != recentSize+20 || ids[len(ids)-1] != 21 {
		t.Fatalf("window keeps %d..%d", ids[len(ids)-1], ids[0])
	}
	if remember(&recent, 5, lww.Fact{In: false, At: 1005, Event: "f"}) || !remembered(recent, 5, lww.Fact{In: true, At: 1004}) {
		t.Fatal("a change older than the whole window is kept, or not known to be past")
	}
	if !slices.Contains(recent.Newest(), 50) || !remember(&recent, 50, lww.Fact{In: false, At: 5000, Event: "g"}) || slices.Contains(recent.Newest(), 50) {
		t.Fatal("an unlike in the window does not take the video out")
	}
}

// The state store loses its data while a replica still remembers the keys it wrote: a like it
// makes before it notices, and the restore from the persisted likes, count every like once and
// keep every fact in the shard.
func TestALossOfTheStoreBeforeAReplicaNoticesLosesNothing(t *testing.T) {
	m := newMemoryStore()
	a, b := replica(m), replica(m)
	ctx := context.Background()
	const user, author = 1, 9
	// The user's shard of videos 1..63 is written by a (2, then 3) and last by b (1).
	persisted := []favoriteapi.Changed{change(user, 2, author, true), change(user, 3, author, true), change(user, 1, author, true)}
	for i, c := range persisted {
		if err := []*likes{a, a, b}[i].makeVisible(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	m.wipe()
	// The restore (b) has put back videos 1 and 2 when a likes video 5, not knowing of the loss;
	// then the restore finishes.
	for _, c := range persisted[2:] {
		if err := b.makeVisible(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.makeVisible(ctx, persisted[0]); err != nil {
		t.Fatal(err)
	}
	if err := a.makeVisible(ctx, change(user, 5, author, true)); err != nil {
		t.Fatal(err)
	}
	if err := b.makeVisible(ctx, persisted[1]); err != nil {
		t.Fatal(err)
	}
	videos := []int64{1, 2, 3, 5}
	s := summaryOf(t, b, user, videos, []int64{user, author})
	for _, v := range videos {
		if !s.Videos[v].LikedByView || s.Videos[v].Count != 1 {
			t.Fatalf("after the loss, video %d shows %+v", v, s.Videos[v])
		}
	}
	if s.Users[user].FavoriteCount != 4 || s.Users[author].TotalFavorited != 4 {
		t.Fatalf("after the loss: %+v, want 4 liked and 4 received", s.Users)
	}
}

// A replica that has not noticed the loss likes a video of a shard it wrote before: the shard's
// older facts must not come back from the replica's memory uncounted.
func TestALikeBeforeTheRestoreIsCountedWithTheRestoredOnes(t *testing.T) {
	m := newMemoryStore()
	a, b := replica(m), replica(m)
	ctx := context.Background()
	const user, author = 1, 9
	var persisted []favoriteapi.Changed
	for v := int64(1); v <= 4; v++ {
		c := change(user, v, author, true)
		persisted = append(persisted, c)
		if err := a.makeVisible(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	m.wipe()
	if err := a.makeVisible(ctx, change(user, 6, author, true)); err != nil {
		t.Fatal(err)
	}
	for _, c := range persisted {
		if err := b.makeVisible(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	s := summaryOf(t, b, user, []int64{1, 2, 3, 4, 6}, []int64{user, author})
	if s.Users[user].FavoriteCount != 5 || s.Users[author].TotalFavorited != 5 {
		t.Fatalf("after the loss: %+v, want 5 liked and 5 received", s.Users)
	}
	for v, likes := range s.Videos {
		if likes.Count != 1 || !likes.LikedByView {
			t.Fatalf("after the loss, video %d shows %+v", v, likes)
		}
	}
}
