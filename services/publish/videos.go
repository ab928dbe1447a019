package main

import (
	"context"

	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

func byAuthor(st *store) func(context.Context, publishapi.ByAuthorRequest) (publishapi.VideoIDsReply, error) {
	return func(ctx context.Context, req publishapi.ByAuthorRequest) (publishapi.VideoIDsReply, error) {
		ids, err := st.byAuthor(ctx, req.AuthorID)
		return publishapi.VideoIDsReply{Status: envelope.Success, VideoIDs: ids}, err
	}
}

func byIDs(st *store) func(context.Context, publishapi.ByIDsRequest) (publishapi.VideosReply, error) {
	return func(ctx context.Context, req publishapi.ByIDsRequest) (publishapi.VideosReply, error) {
		if err := server.LimitBatch(len(req.IDs), publishapi.MaxBatch); err != nil {
			return publishapi.VideosReply{}, err
		}
		videos, err := st.byIDs(ctx, req.IDs)
		return publishapi.VideosReply{Status: envelope.Success, Videos: videos}, err
	}
}

func workCounts(st *store) func(context.Context, publishapi.WorkCountsRequest) (publishapi.WorkCountsReply, error) {
	return func(ctx context.Context, req publishapi.WorkCountsRequest) (publishapi.WorkCountsReply, error) {
		if err := server.LimitBatch(len(req.AuthorIDs), publishapi.MaxBatch); err != nil {
			return publishapi.WorkCountsReply{}, err
		}
		counts, err := st.workCounts(ctx, req.AuthorIDs)
		return publishapi.WorkCountsReply{Status: envelope.Success, Counts: counts}, err
	}
}
