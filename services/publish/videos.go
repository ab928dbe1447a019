package main

import (
	"net/http"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/publishapi"
)

const maxRequestBytes = 64 << 10

// maxBatch bounds the ids of one batch request.
const maxBatch = 1000

func handleByAuthor(st *store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req publishapi.ByAuthorRequest
		if err := envelope.Decode(r, maxRequestBytes, &req); err != nil {
			envelope.Error(w, r, err)
			return
		}
		videos, err := st.byAuthor(r.Context(), req.AuthorID)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, publishapi.VideosReply{Status: envelope.Success, Videos: videos})
	})
}

func handleByIDs(st *store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req publishapi.ByIDsRequest
		if err := envelope.Decode(r, maxRequestBytes, &req); err != nil {
			envelope.Error(w, r, err)
			return
		}
		if len(req.IDs) > maxBatch {
			envelope.Error(w, r, apperr.Newf(apperr.InvalidParameter, "at most %d ids per request", maxBatch))
			return
		}
		videos, err := st.byIDs(r.Context(), req.IDs)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, publishapi.VideosReply{Status: envelope.Success, Videos: videos})
	})
}

func handleWorkCounts(st *store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req publishapi.WorkCountsRequest
		if err := envelope.Decode(r, maxRequestBytes, &req); err != nil {
			envelope.Error(w, r, err)
			return
		}
		if len(req.AuthorIDs) > maxBatch {
			envelope.Error(w, r, apperr.Newf(apperr.InvalidParameter, "at most %d author ids per request", maxBatch))
			return
		}
		counts, err := st.workCounts(r.Context(), req.AuthorIDs)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, publishapi.WorkCountsReply{Status: envelope.Success, Counts: counts})
	})
}
