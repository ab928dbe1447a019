package hotmodel

import (
	"context"
	"errors"
	"strconv"
	"time"

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
// The marker holds the time of the restore that wrote it. Every replica remembers the marker it
// last saw: a different one means another replica restored after a loss, so this process's
// memory of the store (Finished) is stale too and is dropped. Until a replica's next
// check sees the loss (at most restoreCheckInterval), its memory may still skip the work for a
// change it made visible before the loss.
func KeepRestored(ctx context.Context, st Store, owner string, log *zap.Logger, restore func(context.Context) (int, error)) {
	marker := owner + ":hot-model"
	ticker := time.NewTicker(restoreCheckInterval)
	defer ticker.Stop()
	seen := ""
	for {
		seen = restoreIfLost(ctx, st, marker, seen, log, restore)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// restoreIfLost restores the model when its marker is missing, and drops this process's
// memory when the marker is not the one it saw last (seen). It returns the marker now current.
func restoreIfLost(ctx context.Context, st Store, marker, seen string, log *zap.Logger, restore func(context.Context) (int, error)) string {
	item, err := st.SDK.GetState(ctx, st.Name, marker, nil)
	if err != nil {
		return seen
	}
	if item != nil && len(item.Value) > 0 {
		if current := string(item.Value); current != seen {
			if seen != "" {
				log.Warn("the hot model was restored by another replica: forgetting what this process remembered of it",
					zap.String("marker", marker))
			}
			st.Finished.clearAll()
			return current
		}
		return seen
	}
	log.Info("no hot-model marker in the state store (a first start, or the store lost its data): restoring from PostgreSQL",
		zap.String("marker", marker))
	// What this process remembers writing, or finishing, is gone from the store too: changes in
	// flight get the consumer's full check.
	st.Finished.clearAll()
	start := time.Now()
	n, err := restore(ctx)
	if err != nil {
		log.Error("restoring the hot model failed; trying again at the next check", zap.Int("applied", n), zap.Error(err))
		return seen
	}
	stamp := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if err := st.SDK.SaveState(ctx, st.Name, marker, []byte(stamp), nil); err != nil {
		log.Error("marking the hot model restored failed", zap.Error(err))
		return seen
	}
	if n > 0 {
		// Data existed, so the store had lost it (or this is the first start of this version).
		log.Warn("hot model restored from PostgreSQL", zap.Int("changes", n), zap.Duration("took", time.Since(start)))
	} else {
		log.Info("hot model marked complete (nothing to restore)")
	}
	return stamp
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
