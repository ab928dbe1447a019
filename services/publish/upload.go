package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/params"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

// uploader turns an uploaded file into a published video.
type uploader struct {
	store    *store
	works    *workCountModel
	sdk      dapr.Client
	media    *mediaStore
	feed     *feedapi.Client
	maxBytes int64
	tmpDir   string
}

// handleUpload takes the raw video as the body, author_id and title in the query. It checks the
// file is a decodable video, converts it to the MP4 to store, stores that and its cover through
// the media binding, records it, puts it on the timeline, and announces it.
func handleUpload(u *uploader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		read, write := publishapi.UploadDeadlines(u.maxBytes)
		server.Extend(w, read, write)
		video, err := u.upload(r)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, publishapi.VideoReply{Status: envelope.Success, Video: video})
	})
}

func (u *uploader) upload(r *http.Request) (publishapi.Video, error) {
	ctx := r.Context()
	authorID, err := params.ParseID(r.URL.Query().Get("author_id"))
	if err != nil {
		return publishapi.Video{}, apperr.Newf(apperr.InvalidParameter, "author_id must be a positive integer")
	}
	title := r.URL.Query().Get("title")
	if err := publishapi.ValidateTitle(title); err != nil {
		return publishapi.Video{}, err
	}
	work, err := os.MkdirTemp(u.tmpDir, "upload-")
	if err != nil {
		return publishapi.Video{}, err
	}
	defer os.RemoveAll(work)

	original := filepath.Join(work, "original")
	if err := u.receive(r, original); err != nil {
		return publishapi.Video{}, err
	}
	playable, cover := filepath.Join(work, "video.mp4"), filepath.Join(work, "cover.jpg")
	if err := prepare(ctx, original, playable, cover); err != nil {
		logging.FromContext(ctx).Info("upload refused", zap.Error(err))
		return publishapi.Video{}, err
	}

	id := uuid.NewString()
	video := publishapi.Video{AuthorID: authorID, Title: title, PlayKey: "video-" + id + ".mp4", CoverKey: "cover-" + id + ".jpg"}
	if err := u.media.put(ctx, playable, video.PlayKey, "video/mp4"); err != nil {
		return publishapi.Video{}, err
	}
	if err := u.media.put(ctx, cover, video.CoverKey, "image/jpeg"); err != nil {
		return publishapi.Video{}, err
	}
	if err := u.store.insert(ctx, &video); err != nil {
		return publishapi.Video{}, err
	}
	log := logging.FromContext(ctx).With(zap.Int64("video_id", video.ID))
	// The author's work_count counts the video before we answer. Should the state store be down,
	// readers ask this service instead; a count that missed a write while the store was up is
	// corrected by the author's next upload.
	if err := u.works.publish(ctx, authorID); err != nil {
		log.Error("work count not published", zap.Error(err))
	}
	// Visible in the feed before we answer. Should this call fail, the event below still brings
	// the video to the timeline, moments later; the upload itself is safe either way.
	if err := u.feed.Index(ctx, video); err != nil {
		log.Warn("feed index call failed; the video.published event will index it", zap.Error(err))
	}
	if err := events.Publish(ctx, u.sdk, publishapi.TopicVideoPublished, video); err != nil {
		log.Error("video stored but video.published not sent", zap.Error(err))
	}
	log.Info("video published", zap.Int64("author_id", authorID))
	return video, nil
}

// prepare turns the upload at original into the MP4 to store at playable and its JPEG cover.
func prepare(ctx context.Context, original, playable, cover string) error {
	probe, err := inspect(ctx, original)
	if err != nil {
		return err
	}
	if err := convert(ctx, original, playable, probe); err != nil {
		return err
	}
	return extractCover(ctx, playable, cover, probe)
}

// receive copies the request body to path, refusing more than maxBytes.
func (u *uploader) receive(r *http.Request, path string) error {
	if r.ContentLength > u.maxBytes {
		return apperr.New(apperr.BodyTooLarge)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(r.Body, u.maxBytes+1))
	if err != nil {
		return apperr.Wrap(apperr.InvalidParameter, err)
	}
	if n > u.maxBytes {
		return apperr.New(apperr.BodyTooLarge)
	}
	if n == 0 {
		return apperr.New(apperr.MissingVideo)
	}
	return f.Close()
}
