package main

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/auth"
	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

// deps are what the gateway's handlers are built from.
type deps struct {
	log       *zap.Logger
	tokens    *auth.Tokens
	accounts  *userapi.Client
	publish   *publishapi.Client
	feed      *feedapi.Client
	favorites *favoriteapi.Client
	comments  *commentapi.Client
	dates     commentDates
	compose   *composer
	publisher *publisher
	images    map[string][]byte
	mediaDir  string // local media folder served under /media/, empty when media is served elsewhere
}

// newServer lists every public route of the gateway: the 16 mobile endpoints, health, the default
// images and the local media files. Mobile routes answer with or without their trailing slash.
func newServer(d deps) http.Handler {
	r := mux.NewRouter()
	get, post := http.MethodGet, http.MethodPost
	route := func(method, path string, h http.Handler) { r.Handle(path, h).Methods(method) }

	route(get, "/douyin/feed", endpoint(d.tokens, optional, handleFeed(d.feed, d.compose, &newestPageCache{})))
	route(post, "/douyin/user/register", endpoint(d.tokens, public, handleAccount(d.tokens, d.accounts.Register)))
	route(post, "/douyin/user/login", endpoint(d.tokens, public, handleAccount(d.tokens, d.accounts.Login)))
	route(get, "/douyin/user", endpoint(d.tokens, required, handleUserInfo(d.compose)))
	route(post, "/douyin/publish/action", handlePublish(d.publisher))
	route(get, "/douyin/publish/list", endpoint(d.tokens, required, handlePublishList(d.publish, d.compose)))
	route(post, "/douyin/favorite/action", endpoint(d.tokens, required, handleFavoriteAction(d.favorites)))
	route(get, "/douyin/favorite/list", endpoint(d.tokens, required, handleFavoriteList(d.favorites, d.publish, d.compose)))
	route(post, "/douyin/comment/action", endpoint(d.tokens, required, handleCommentAction(d.comments, d.compose, d.dates)))
	route(get, "/douyin/comment/list", endpoint(d.tokens, required, handleCommentList(d.comments, d.compose, d.dates)))
	route(post, "/douyin/relation/action", notImplemented())
	route(get, "/douyin/relation/follow/list", notImplemented())
	route(get, "/douyin/relation/follower/list", notImplemented())
	route(get, "/douyin/relation/friend/list", notImplemented())
	route(get, "/douyin/message/chat", notImplemented())
	route(post, "/douyin/message/action", notImplemented())

	route(get, server.HealthPath, server.Healthz())
	route(get, "/healthz/feed", endpoint(d.tokens, public, handleFeedPing(d.feed)))
	r.PathPrefix("/static/").Methods(get, http.MethodHead).Handler(handleStatic(d.images))
	if d.mediaDir != "" {
		r.PathPrefix("/media/").Methods(get, http.MethodHead).Handler(handleMedia(d.mediaDir))
	}

	server.UseEnvelopeFallbacks(r)
	return logging.Middleware(d.log)(withoutTrailingSlash(r))
}

// withoutTrailingSlash routes /douyin/feed/ as /douyin/feed. It rewrites instead of redirecting:
// a redirected POST loses its body.
func withoutTrailingSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) > 1 && strings.HasSuffix(r.URL.Path, "/") {
			r.URL.Path = strings.TrimRight(r.URL.Path, "/")
			r.URL.RawPath = ""
		}
		next.ServeHTTP(w, r)
	})
}
