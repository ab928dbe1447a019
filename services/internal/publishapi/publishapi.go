// Package publishapi is the publish service's internal API and its video.published event.
package publishapi

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/text"
)

// AppID is the publish service's Dapr app id.
const AppID = "publish"

// Methods of the internal API.
const (
	MethodUpload     = "videos/upload"
	MethodByAuthor   = "videos/by-author"
	MethodWorkCounts = "videos/work-counts"
	MethodByIDs      = "videos/by-ids"
)

// TopicVideoPublished carries a Video each time one is published.
const TopicVideoPublished = "video.published"

// Video is a published video's metadata. PlayKey and CoverKey are object keys in the media
// store; the gateway turns them into URLs. PublishedAt is Unix milliseconds and unique per video.
type Video struct {
	ID          int64  `json:"id"`
	AuthorID    int64  `json:"author_id"`
	Title       string `json:"title"`
	PlayKey     string `json:"play_key"`
	CoverKey    string `json:"cover_key"`
	PublishedAt int64  `json:"published_at"`
}

// VideoReply answers an upload.
type VideoReply struct {
	envelope.Status
	Video Video `json:"video"`
}

// ByAuthorRequest asks for an author's videos, newest first.
type ByAuthorRequest struct {
	AuthorID int64 `json:"author_id"`
}

// VideoIDsReply lists video ids: the caller keeps the videos themselves, which never change.
type VideoIDsReply struct {
	envelope.Status
	VideoIDs []int64 `json:"video_ids"`
}

// VideosReply lists videos.
type VideosReply struct {
	envelope.Status
	Videos []Video `json:"videos"`
}

// ByIDsRequest asks for videos by id.
type ByIDsRequest struct {
	IDs []int64 `json:"ids"`
}

// WorkCountsRequest asks how many videos each author published.
type WorkCountsRequest struct {
	AuthorIDs []int64 `json:"author_ids"`
}

// WorkCountsReply maps author id to published video count; authors with none are absent.
type WorkCountsReply struct {
	envelope.Status
	Counts map[int64]int64 `json:"counts"`
}

// Client calls the publish service.
type Client struct{ dapr *daprc.Client }

// NewClient returns a client that invokes the publish service through dapr.
func NewClient(dapr *daprc.Client) *Client { return &Client{dapr: dapr} }

// Upload streams a video file to the publish service, which checks, stores and indexes it.
//
// The length is not sent (the body goes chunked): daprd keeps a body of known length whole in
// memory, to replay it should its built-in invocation retries need to (Dapr 1.18 direct
// messaging), which for a 62 MiB upload cost the calling sidecar over 130 MiB. A body of
// unknown length is streamed through instead; the publish service enforces the size limit as it
// reads.
func (c *Client) Upload(ctx context.Context, authorID int64, title string, data io.Reader) (Video, error) {
	q := url.Values{"author_id": {strconv.FormatInt(authorID, 10)}, "title": {title}}
	var reply VideoReply
	err := c.dapr.InvokeStream(ctx, AppID, MethodUpload+"?"+q.Encode(), "application/octet-stream", -1, data, &reply)
	return reply.Video, err
}

// ByAuthor returns the ids of an author's videos, newest first.
func (c *Client) ByAuthor(ctx context.Context, authorID int64) ([]int64, error) {
	var reply VideoIDsReply
	err := c.dapr.Invoke(ctx, AppID, MethodByAuthor, ByAuthorRequest{AuthorID: authorID}, &reply)
	return reply.VideoIDs, err
}

// DefaultMaxUploadBytes is the upload limit unless MAX_UPLOAD_BYTES says otherwise; the gateway
// and the publish service read the same variable, so they agree.
const DefaultMaxUploadBytes = 64 << 20

// minUploadRate is the slowest transfer waited for (bytes a second); uploadProcessing bounds the
// checks, the cover and the storage of one video.
const (
	minUploadRate    = 128 << 10
	uploadProcessing = 5 * time.Minute
)

// TransferTime is how long a client may take to send or receive size bytes: at minUploadRate,
// and at least a minute. The servers' default deadlines are for small requests.
func TransferTime(size int64) time.Duration {
	return max(time.Minute, time.Duration(size/minUploadRate)*time.Second)
}

// UploadDeadlines are how long an upload of up to maxBytes may take to arrive, and to be
// answered (its arrival plus its processing).
func UploadDeadlines(maxBytes int64) (read, write time.Duration) {
	read = TransferTime(maxBytes)
	return read, read + uploadProcessing
}

// MaxTitleRunes bounds a video's title.
const MaxTitleRunes = 100

// ValidateTitle refuses a title of no or more than MaxTitleRunes characters, or with control
// characters. The gateway checks it before it takes the video; publish checks it again.
func ValidateTitle(title string) error {
	if n := utf8.RuneCountInString(title); n < 1 || n > MaxTitleRunes || !text.Clean(title) {
		return apperr.New(apperr.InvalidTitle)
	}
	return nil
}

// WorkCountBucket names the lww.Counters buckets of users' work counts (videos published) the
// publish service keeps in the shared state store, written before an upload is answered; any
// service may read them, only the publish service writes them.
const WorkCountBucket = "publish:works"

// WorkCountKeys names the buckets holding the work counts of authorIDs.
func WorkCountKeys(authorIDs []int64) []string { return lww.BucketKeys(WorkCountBucket, authorIDs) }

// DecodeWorkCounts reads the work counts of authorIDs out of a bulk read of (at least)
// WorkCountKeys(authorIDs).
func DecodeWorkCounts(raw map[string]json.RawMessage, authorIDs []int64) (map[int64]int64, error) {
	return lww.Counts(raw, WorkCountBucket, authorIDs)
}

// MaxBatch bounds the ids of one ByIDs or WorkCounts request.
const MaxBatch = 1000

// WorkCounts returns the published video count of each author.
func (c *Client) WorkCounts(ctx context.Context, authorIDs []int64) (map[int64]int64, error) {
	counts := make(map[int64]int64, len(authorIDs))
	err := daprc.InChunks(authorIDs, MaxBatch, func(part []int64) error {
		var reply WorkCountsReply
		err := c.dapr.Invoke(ctx, AppID, MethodWorkCounts, WorkCountsRequest{AuthorIDs: part}, &reply)
		maps.Copy(counts, reply.Counts)
		return err
	})
	return counts, err
}

// ByIDs returns the videos with the given ids, keyed by id; unknown ids are absent.
func (c *Client) ByIDs(ctx context.Context, ids []int64) (map[int64]Video, error) {
	found := make(map[int64]Video, len(ids))
	err := daprc.InChunks(ids, MaxBatch, func(part []int64) error {
		var reply VideosReply
		if err := c.dapr.Invoke(ctx, AppID, MethodByIDs, ByIDsRequest{IDs: part}, &reply); err != nil {
			return err
		}
		for _, v := range reply.Videos {
			found[v.ID] = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// Authors answers "who published this video", remembering the answers: a video's author never
// changes, so the memory cannot go stale. Services that act on videos use it to check that a
// video exists.
type Authors struct {
	client *Client
	known  sync.Map // video id → author id
	size   atomic.Int64
}

// maxKnownVideos bounds the memory (about 100 bytes a video); past it the memory starts over,
// which only costs a lookup per video liked or commented again.
const maxKnownVideos = 1_000_000

// NewAuthors returns an Authors that asks client.
func NewAuthors(client *Client) *Authors { return &Authors{client: client} }

// Of returns the author of a video, or VideoNotFound.
func (a *Authors) Of(ctx context.Context, videoID int64) (int64, error) {
	if author, ok := a.known.Load(videoID); ok {
		return author.(int64), nil
	}
	videos, err := a.client.ByIDs(ctx, []int64{videoID})
	if err != nil {
		return 0, err
	}
	v, ok := videos[videoID]
	if !ok {
		return 0, apperr.New(apperr.VideoNotFound)
	}
	if _, loaded := a.known.LoadOrStore(videoID, v.AuthorID); !loaded && a.size.Add(1) > maxKnownVideos {
		a.known.Clear()
		a.size.Store(0)
	}
	return v.AuthorID, nil
}
