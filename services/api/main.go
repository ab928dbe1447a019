// Command api is the gateway: the only public entry. It owns the mobile contract (parameters,
// tokens, the envelope, the error catalogue) and composes responses from the domain services,
// which it reaches only through its Dapr sidecar.
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/doutok/doutok/services/internal/auth"
	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/counters"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/messageapi"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/relationapi"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

// signingKeySecret is the secret-store entry holding the token signing key.
const signingKeySecret = "token-signing-key"

func main() { boot.Main("api", run) }

func run(ctx context.Context, getenv server.Getenv) error {
	log := logging.New("api")
	defer log.Sync()
	ttl, err := time.ParseDuration(getenv.Or("TOKEN_TTL", auth.DefaultTTL.String()))
	if err != nil {
		return fmt.Errorf("TOKEN_TTL: %w", err)
	}
	sidecar, err := boot.Sidecar(ctx, getenv)
	if err != nil {
		return err
	}
	defer sidecar.Close()
	secret, err := sidecar.SDK().GetSecret(ctx, daprc.SecretStore, signingKeySecret, nil)
	if err != nil {
		return fmt.Errorf("read %s from the secret store: %w", signingKeySecret, err)
	}
	tokens, err := auth.NewTokens([]byte(secret[signingKeySecret]), ttl)
	if err != nil {
		return err
	}
	maxUpload, err := getenv.PositiveInt("MAX_UPLOAD_BYTES", publishapi.DefaultMaxUploadBytes)
	if err != nil {
		return err
	}
	maxUploads, err := getenv.PositiveInt("MAX_CONCURRENT_UPLOADS", 8)
	if err != nil {
		return err
	}
	maxUploadsPerUser, err := getenv.PositiveInt("MAX_UPLOADS_PER_USER", 2)
	if err != nil {
		return err
	}
	rates, err := rateLimitsFrom(getenv)
	if err != nil {
		return err
	}
	publicBase := strings.TrimRight(getenv.Or("PUBLIC_BASE_URL", "http://localhost:8080"), "/")
	mediaBase := strings.TrimRight(getenv.Or("PUBLIC_MEDIA_BASE_URL", publicBase+"/media"), "/")
	accounts := userapi.NewClient(sidecar)
	publish := publishapi.NewClient(sidecar)
	favorites := favoriteapi.NewClient(sidecar)
	comments := commentapi.NewClient(sidecar)
	relations := relationapi.NewClient(sidecar)
	feed := feedapi.NewClient(sidecar)
	zone, err := time.LoadLocation(getenv.Or("COMMENT_TIMEZONE", "Asia/Shanghai"))
	if err != nil {
		return fmt.Errorf("COMMENT_TIMEZONE: %w", err)
	}
	gate := &startupGate{}
	go gate.waitForServices(ctx, log, sidecar, calledApps)
	handler := newServer(deps{
		log:       log,
		tokens:    tokens,
		accounts:  accounts,
		publish:   publish,
		feed:      feed,
		favorites: favorites,
		comments:  comments,
		relations: relations,
		messages:  messageapi.NewClient(sidecar),
		dates:     commentDates{zone: zone},
		compose: &composer{
			accounts: accounts,
			entries:  newVideoEntries(feed.Entries, entriesFromOwners(publish, accounts), maxEntries),
			counters: &counters.Reader{
				State:  hotmodel.Store{SDK: sidecar.SDK(), Name: daprc.StateStore},
				Owners: counters.Owners{Favorites: favorites, Comments: comments, Relations: relations, Publish: publish},
			},
			publicBaseURL: publicBase,
			mediaBaseURL:  mediaBase,
		},
		publisher: &publisher{
			tokens:   tokens,
			publish:  publish,
			maxBytes: maxUpload,
			tmpDir:   getenv("UPLOAD_TMP_DIR"),
			slots:    newUploadSlots(int(maxUploads), int(maxUploadsPerUser)),
			limits:   rates,
		},
		pages:    newSettledPages(feed.Page, maxSettledPages),
		limits:   rates,
		images:   defaultImages(),
		mediaDir: getenv("MEDIA_DIR"),
		web:      webClientIn(getenv("WEB_DIR"), publicBase, mediaBase),
		gate:     gate,
	})
	if requestTimeout, err = time.ParseDuration(getenv.Or("REQUEST_TIMEOUT", DefaultRequestTimeout.String())); err != nil || requestTimeout <= 0 {
		return fmt.Errorf("REQUEST_TIMEOUT must be a positive Go duration")
	}
	limits := server.DefaultTimeouts
	for name, d := range map[string]*time.Duration{"READ_HEADER_TIMEOUT": &limits.ReadHeader, "READ_TIMEOUT": &limits.Read} {
		if v := getenv(name); v != "" {
			if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
				return fmt.Errorf("%s must be a positive Go duration", name)
			}
		}
	}
	return boot.ServeWithOps(ctx, log, getenv("OPS_ADDR"), server.Ops("api", gate.readyz()), func(ctx context.Context) error {
		return server.Serve(ctx, log, getenv.Or("PUBLIC_ADDR", "127.0.0.1:8080"), handler, limits)
	})
}
