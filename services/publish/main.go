// Command publish owns videos: it checks uploads with ffprobe, converts them to MP4 and extracts
// covers with ffmpeg, stores both through the media binding, records the metadata, keeps the
// authors' work counts in the shared state store, and announces video.published.
package main

import (
	"context"

	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

func main() { boot.Main("publish", run) }

func run(ctx context.Context, getenv server.Getenv) error {
	if err := checkTools(); err != nil {
		return err
	}
	maxBytes, err := getenv.PositiveInt("MAX_UPLOAD_BYTES", publishapi.DefaultMaxUploadBytes)
	if err != nil {
		return err
	}
	svc, err := boot.Start(ctx, "publish", getenv, boot.Options{Schema: schema, Migrations: migrations, Sidecar: true})
	if err != nil {
		return err
	}
	defer svc.Close()
	st := &store{db: svc.DB}
	state := hotmodel.Store{SDK: svc.Sidecar.SDK(), Name: daprc.StateStore}
	works := &workCountModel{state: state, store: st}
	go hotmodel.KeepRestored(ctx, state, "publish", svc.Log, works.restore)
	up := &uploader{store: st, works: works, sdk: svc.Sidecar.SDK(), media: &mediaStore{sdk: svc.Sidecar.SDK()}, feed: feedapi.NewClient(svc.Sidecar), maxBytes: maxBytes, tmpDir: getenv("UPLOAD_TMP_DIR")}
	return svc.Serve(ctx, newServer(svc.Log, svc.AppToken(), st, up))
}
