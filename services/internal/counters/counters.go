// Package counters reads the counters of videos and users that their owners publish as read
// models in the shared state store: like counts and the viewer's likes (favorite), comment counts
// (comment), follow counts and whom the viewer follows (relation), work counts (publish). One bulk
// read of a few counters buckets answers a whole page; with the state store down, the owners are
// asked instead (they answer from PostgreSQL).
//
// The keys and their decoding belong to the owners' API packages, which the owners use too; this
// package only gathers them, so that the gateway reads them one way for every User and Video it
// renders, and both ways (state store, owners) give the same Counts.
package counters

import (
	"context"
	"encoding/json"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/relationapi"
)

// Request names the counters wanted: of videos, and of users (work counts included).
type Request struct {
	Viewer   int64
	VideoIDs []int64
	UserIDs  []int64
}

// Counts are the counters read. Every requested id is present.
type Counts struct {
	Videos  map[int64]VideoCounts
	Authors map[int64]AuthorCounts
}

// VideoCounts are one video's counters, and whether the viewer likes it.
type VideoCounts struct {
	Likes         int64
	Comments      int64
	LikedByViewer bool
}

// AuthorCounts are one user's counters as their owners report them: likes (favorite), follows
// with whether the viewer follows the user (relation), and videos published (publish).
type AuthorCounts struct {
	favoriteapi.UserLikes
	relationapi.UserFollows
	WorkCount int64
}

// parts are what each owner answers of a Request.
type parts struct {
	likes    favoriteapi.SummaryReply
	comments map[int64]int64
	follows  map[int64]relationapi.UserFollows
	works    map[int64]int64
}

func (req Request) likes() favoriteapi.SummaryRequest {
	return favoriteapi.SummaryRequest{Viewer: req.Viewer, VideoIDs: req.VideoIDs, UserIDs: req.UserIDs}
}

func (req Request) follows() relationapi.SummaryRequest {
	return relationapi.SummaryRequest{Viewer: req.Viewer, UserIDs: req.UserIDs}
}

// Keys names the state keys holding the counters req asks for.
func Keys(req Request) []string {
	keys := req.likes().Keys()
	keys = append(keys, commentapi.CountKeys(req.VideoIDs)...)
	keys = append(keys, req.follows().Keys()...)
	return append(keys, publishapi.WorkCountKeys(req.UserIDs)...)
}

// Decode reads the counters req asks for out of a bulk read of (at least) Keys(req), with each
// owner's decoder.
func Decode(raw map[string]json.RawMessage, req Request) (Counts, error) {
	var p parts
	var err error
	if p.likes, err = favoriteapi.DecodeSummary(raw, req.likes()); err != nil {
		return Counts{}, err
	}
	if p.comments, err = commentapi.DecodeCounts(raw, req.VideoIDs); err != nil {
		return Counts{}, err
	}
	if p.follows, err = relationapi.DecodeSummary(raw, req.follows()); err != nil {
		return Counts{}, err
	}
	if p.works, err = publishapi.DecodeWorkCounts(raw, req.UserIDs); err != nil {
		return Counts{}, err
	}
	return p.counts(req), nil
}

// counts puts the owners' parts together.
func (p parts) counts(req Request) Counts {
	c := Counts{
		Videos:  make(map[int64]VideoCounts, len(req.VideoIDs)),
		Authors: make(map[int64]AuthorCounts, len(req.UserIDs)),
	}
	for _, id := range req.VideoIDs {
		v := p.likes.Videos[id]
		c.Videos[id] = VideoCounts{Likes: v.Count, Comments: p.comments[id], LikedByViewer: v.LikedByView}
	}
	for _, id := range req.UserIDs {
		c.Authors[id] = AuthorCounts{UserLikes: p.likes.Users[id], UserFollows: p.follows[id], WorkCount: p.works[id]}
	}
	return c
}

// Owners are the services that own the counters, asked when the state store is down.
type Owners struct {
	Favorites *favoriteapi.Client
	Comments  *commentapi.Client
	Relations *relationapi.Client
	Publish   *publishapi.Client // only for work counts
}

// Reader reads counters from the state store, or from their owners when it is down.
type Reader struct {
	State  hotmodel.Store
	Owners Owners
}

// Read answers req with one bulk read of the state store, or with the owners' answers when the
// state store cannot be read.
func (r *Reader) Read(ctx context.Context, req Request) (Counts, error) {
	if len(req.VideoIDs)+len(req.UserIDs) == 0 {
		return parts{}.counts(req), nil
	}
	readCtx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	raw, err := hotmodel.GetMany[json.RawMessage](readCtx, r.State, Keys(req))
	cancel()
	if err == nil {
		return Decode(raw, req)
	}
	logging.FromContext(ctx).Warn("state store unavailable, asking the counters' owners", zap.Error(err))
	return r.FromOwners(ctx, req)
}

// FromOwners asks the counters' owners, in parallel. Invocations: up to 4 (favorite, comment,
// relation, publish for work counts).
func (r *Reader) FromOwners(ctx context.Context, req Request) (Counts, error) {
	var p parts
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { p.likes, err = r.Owners.Favorites.Summary(gctx, req.likes()); return err })
	if len(req.VideoIDs) > 0 {
		g.Go(func() (err error) { p.comments, err = r.Owners.Comments.Counts(gctx, req.VideoIDs); return err })
	}
	if len(req.UserIDs) > 0 {
		g.Go(func() (err error) {
			p.follows, err = r.Owners.Relations.Summary(gctx, req.Viewer, req.UserIDs)
			return err
		})
		g.Go(func() (err error) { p.works, err = r.Owners.Publish.WorkCounts(gctx, req.UserIDs); return err })
	}
	if err := g.Wait(); err != nil {
		return Counts{}, err
	}
	return p.counts(req), nil
}
