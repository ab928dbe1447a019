// Command publish owns videos: it checks uploads with ffprobe, extracts covers with ffmpeg, stores
// both through the media binding, records the metadata, and announces video.published.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/server"
)

// DefaultMaxUploadBytes is the upload limit unless MAX_UPLOAD_BYTES says otherwise.
const DefaultMaxUploadBytes = 64 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv server.Getenv) error {
	log := logging.New("publish")
	defer log.Sync()
	env, err := getenv.Require("APP_PORT", "APP_API_TOKEN", "DATABASE_URL", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT")
	if err != nil {
		return err
	}
	maxBytes, err := strconv.ParseInt(getenv.Or("MAX_UPLOAD_BYTES", strconv.Itoa(DefaultMaxUploadBytes)), 10, 64)
	if err != nil || maxBytes <= 0 {
		return fmt.Errorf("MAX_UPLOAD_BYTES must be a positive number of bytes")
	}
	db, err := pgdb.Open(ctx, env["DATABASE_URL"], schema, migrations)
	if err != nil {
		return err
	}
	defer db.Close()
	sidecar, err := daprc.Connect(ctx, daprc.Config{
		HTTPPort: env["DAPR_HTTP_PORT"], GRPCPort: env["DAPR_GRPC_PORT"], APIToken: getenv("DAPR_API_TOKEN"),
	})
	if err != nil {
		return err
	}
	defer sidecar.Close()
	st := &store{db: db}
	up := &uploader{store: st, sdk: sidecar.SDK(), feed: feedapi.NewClient(sidecar), maxBytes: maxBytes, tmpDir: getenv("UPLOAD_TMP_DIR")}
	return server.Serve(ctx, log, "127.0.0.1:"+env["APP_PORT"], newServer(log, env["APP_API_TOKEN"], st, up), nil)
}
