package main

import (
	"context"

	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/publishapi"
)

// workCountModel keeps each author's work count in the shared state store
// (publishapi.WorkCountBucket), the read model every User's work_count comes from.
type workCountModel struct {
	state hotmodel.Store
	store *store
}

// publish copies an author's count from PostgreSQL into the read model. Videos are never
// removed, so the count is its own sequence: an older copy never replaces a newer one.
func (w *workCountModel) publish(ctx context.Context, authorID int64) error {
	n, err := w.store.workCount(ctx, authorID)
	if err != nil {
		return err
	}
	return hotmodel.AssignCount(ctx, w.state, publishapi.WorkCountBucket, authorID, n, n)
}

// restore puts every author's count back into the read model after the state store lost it
// (hotmodel.KeepRestored).
func (w *workCountModel) restore(ctx context.Context) (int, error) {
	return hotmodel.Replay(ctx, w.store.eachWorkCount, func(ctx context.Context, a authorWorks) error {
		return hotmodel.AssignCount(ctx, w.state, publishapi.WorkCountBucket, a.author, a.works, a.works)
	})
}
