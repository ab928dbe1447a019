package hotmodel

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// KeepRestored rebuilds owner's hot model from its durable copy whenever the state store has
// lost it: a Redis that came back empty, a flush, a failover to a replica without the data.
//
// The model has no TTL and nothing else would ever fill it again, so readers would see zero
// counts and nothing liked. A marker key of owner's is written once the model is complete; its
// absence is the sign of a loss. The check runs at start and then every restoreCheckInterval; a
// state store that cannot be read decides nothing. restore applies every persisted change again
// (the changes are idempotent, so requests and consumers may keep writing meanwhile) and reports
// how many it applied. A restore that fails is tried again at the next check.
//
// One replica restores at a time: it claims the restore in a second key of owner's first, and
// the others leave it to that replica unless its claim is older than restoreTakeover (it died,
// or the restore is that long). The claim also tells whether the store lost its data again
// during the restore: then the claim is gone too, and the restore, which wrote part of the model
// into a store that lost it afterwards, does not mark the model complete but starts over.
//
// The marker holds the time of the restore that wrote it. Every replica remembers the marker it
// last saw: a different one means another replica restored after a loss, so this process's
// memory of the store (Finished) is stale too and is dropped. It is dropped as well at every
// check that finds the marker missing. Until a replica's next check sees the loss (at most
// restoreCheckInterval), its memory may still skip the work for a change it made visible before
// the loss.
func KeepRestored(ctx context.Context, st Store, owner string, log *zap.Logger, restore func(context.Context) (int, error)) {
	r := newRestorer(st, owner, log, restore)
	ticker := time.NewTicker(restoreCheckInterval)
	defer ticker.Stop()
	for {
		r.restoreIfLost(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// restorer is one replica's side of KeepRestored.
type restorer struct {
	st      Store
	marker  string // owner:hot-model, written once the model is complete
	claim   string // owner:hot-model-restoring, the replica restoring it and since when
	me      string // this replica, in claims
	log     *zap.Logger
	restore func(context.Context) (int, error)
	seen    string // the marker this replica saw last
}

func newRestorer(st Store, owner string, log *zap.Logger, restore func(context.Context) (int, error)) *restorer {
	return &restorer{st: st, marker: owner + ":hot-model", claim: owner + ":hot-model-restoring",
		me: strconv.FormatUint(rand.Uint64(), 36), log: log, restore: restore}
}

// restoreClaim is the value of the claim key.
type restoreClaim struct {
	By    string `json:"by"`
	Since int64  `json:"since"` // Unix ms
}

// restoreTakeover is how old another replica's claim must be before this one restores anyway.
const restoreTakeover = 2 * time.Minute

// restoreIfLost restores the model when its marker is missing and no other replica is restoring
// it, and drops this process's memory when the marker is missing or not the one it saw last.
func (r *restorer) restoreIfLost(ctx context.Context) {
	st, log := r.st, r.log
	item, err := st.SDK.GetState(ctx, st.Name, r.marker, nil)
	if err != nil {
		return
	}
	if item != nil && len(item.Value) > 0 {
		if current := string(item.Value); current != r.seen {
			if r.seen != "" {
				log.Warn("the hot model was restored by another replica: forgetting what this process remembered of it",
					zap.String("marker", r.marker))
			}
			st.Finished.clearAll()
			r.seen = current
		}
		return
	}
	// What this process remembers writing, or finishing, is gone from the store too: changes in
	// flight get the consumer's full check.
	st.Finished.clearAll()
	claim, mine, err := r.claimRestore(ctx)
	if err != nil || !mine {
		if err == nil {
			log.Info("another replica is restoring the hot model", zap.String("marker", r.marker), zap.String("by", claim.By))
		}
		return
	}
	log.Info("no hot-model marker in the state store (a first start, or the store lost its data): restoring from PostgreSQL",
		zap.String("marker", r.marker))
	start := time.Now()
	n, err := r.restore(ctx)
	if err != nil {
		log.Error("restoring the hot model failed; trying again at the next check", zap.Int("applied", n), zap.Error(err))
		return
	}
	// Had the store lost its data again meanwhile, the claim would be gone (or another replica's).
	if now, err := r.readClaim(ctx); err != nil || now == nil || *now != claim {
		log.Warn("the state store lost the hot model again while it was restored (or another replica took the restore over): not marking it complete",
			zap.String("marker", r.marker), zap.Error(err))
		return
	}
	stamp := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if err := st.SDK.SaveState(ctx, st.Name, r.marker, []byte(stamp), nil); err != nil {
		log.Error("marking the hot model restored failed", zap.Error(err))
		return
	}
	if n > 0 {
		// Data existed, so the store had lost it (or this is the first start of this version).
		log.Warn("hot model restored from PostgreSQL", zap.Int("changes", n), zap.Duration("took", time.Since(start)))
	} else {
		log.Info("hot model marked complete (nothing to restore)")
	}
	r.seen = stamp
}

// claimRestore makes this replica the one that restores the model, unless another one has a
// claim younger than restoreTakeover. It returns the claim in force and whether it is this
// replica's.
func (r *restorer) claimRestore(ctx context.Context) (restoreClaim, bool, error) {
	item, err := r.st.SDK.GetState(ctx, r.st.Name, r.claim, nil)
	if err != nil {
		return restoreClaim{}, false, err
	}
	etag := ""
	if item != nil && len(item.Value) > 0 {
		var held restoreClaim
		if err := json.Unmarshal(item.Value, &held); err == nil {
			if held.By == r.me {
				return held, true, nil // this replica's own restore failed: it tries again
			}
			if time.Since(time.UnixMilli(held.Since)) < restoreTakeover {
				return held, false, nil
			}
		}
		etag = item.Etag // an old claim, or one that cannot be read: taken over
	}
	claim := restoreClaim{By: r.me, Since: time.Now().UnixMilli()}
	value, err := json.Marshal(claim)
	if err != nil {
		return restoreClaim{}, false, err
	}
	// Only if nobody claimed (or took over) meanwhile: the replica whose write lands restores.
	if err := r.st.SDK.SaveStateWithETag(ctx, r.st.Name, r.claim, value, etag, nil,
		dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite)); err != nil {
		held, err := r.readClaim(ctx)
		if err != nil || held == nil {
			return restoreClaim{}, false, err
		}
		return *held, held.By == r.me, nil
	}
	return claim, true, nil
}

// readClaim returns the claim in the store, nil when there is none.
func (r *restorer) readClaim(ctx context.Context) (*restoreClaim, error) {
	item, err := r.st.SDK.GetState(ctx, r.st.Name, r.claim, nil)
	if err != nil || item == nil || len(item.Value) == 0 {
		return nil, err
	}
	var c restoreClaim
	if err := json.Unmarshal(item.Value, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// restoreCheckInterval is how often the services look for the loss of their hot model.
const restoreCheckInterval = 5 * time.Second

// restoreParallelism is how many changes a restore applies at a time.
const restoreParallelism = 32

// Replay is a restore function for KeepRestored: it applies every change that each yields with
// apply, restoreParallelism at a time, and reports how many there were.
func Replay[T any](ctx context.Context, each func(context.Context, func(T)) error, apply func(context.Context, T) error) (int, error) {
	var g errgroup.Group
	g.SetLimit(restoreParallelism)
	n := 0
	err := each(ctx, func(change T) {
		n++
		g.Go(func() error { return apply(ctx, change) })
	})
	return n, errors.Join(err, g.Wait())
}
