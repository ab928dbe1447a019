package main

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/auth"
	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/messageapi"
	"github.com/doutok/doutok/services/internal/metrics"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/relationapi"
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
	relations *relationapi.Client
	messages  *messageapi.Client
	dates     commentDates
	compose   *composer
	publisher *publisher
	limits    *rateLimits
	pages     *settledPages
	images    map[string][]byte
	mediaDir  string     // local media folder served under /media/, empty when media is served elsewhere
	web       *webClient // the web client at / and /assets/, nil when not served
	gate      *startupGate
}

// newServer lists every public route of the gateway: the 16 mobile endpoints, health, the default
// images and the local media files. Mobile routes answer with or without their trailing slash.
func newServer(d deps) http.Handler {
	r := mux.NewRouter()
	get, post := http.MethodGet, http.MethodPost
	route := func(method, path string, h http.Handler) { r.Handle(path, h).Methods(method) }

	// Each endpoint: its access, its action (register, login and the writes within their rate
	// limits; the upload spends its write itself), and the shape of its reply (kept on errors too).
	route(get, "/douyin/feed", endpoint(d.tokens, optional, handleFeed(d.pages, d.compose), feedResponse{}))
	route(post, "/douyin/user/register", endpoint(d.tokens, public, d.limits.register(handleAccount(d.tokens, d.accounts.Register)), accountResponse{}))
	route(post, "/douyin/user/login", endpoint(d.tokens, public, d.limits.login(handleAccount(d.tokens, d.accounts.Login)), accountResponse{}))
	route(get, "/douyin/user", endpoint(d.tokens, required, handleUserInfo(d.compose), userResponse{}))
	route(post, "/douyin/publish/action", handlePublish(d.publisher))
	route(get, "/douyin/publish/list", endpoint(d.tokens, required, handlePublishList(d.publish, d.compose), videoListResponse{}))
	route(post, "/douyin/favorite/action", endpoint(d.tokens, required, d.limits.write(handleFavoriteAction(d.favorites)), statusReply{}))
	route(get, "/douyin/favorite/list", endpoint(d.tokens, required, handleFavoriteList(d.favorites, d.compose), videoListResponse{}))
	route(post, "/douyin/comment/action", endpoint(d.tokens, required, d.limits.write(handleCommentAction(d.comments, d.compose, d.dates)), commentResponse{}))
	route(get, "/douyin/comment/list", endpoint(d.tokens, required, handleCommentList(d.comments, d.compose, d.dates), commentListResponse{}))
	route(post, "/douyin/relation/action", endpoint(d.tokens, required, d.limits.write(handleRelationAction(d.relations)), statusReply{}))
	route(get, "/douyin/relation/follow/list", endpoint(d.tokens, required, handleUserList(d.relations, d.compose, relationapi.ListFollowing), userListResponse{}))
	route(get, "/douyin/relation/follower/list", endpoint(d.tokens, required, handleUserList(d.relations, d.compose, relationapi.ListFollowers), userListResponse{}))
	route(get, "/douyin/relation/friend/list", endpoint(d.tokens, required, handleFriendList(d.relations, d.messages, d.compose), friendListResponse{}))
	route(get, "/douyin/message/chat", endpoint(d.tokens, required, handleChat(d.messages), chatResponse{}))
	route(post, "/douyin/message/action", endpoint(d.tokens, required, d.limits.write(handleMessageAction(d.messages)), statusReply{}))

	route(get, server.HealthPath, server.Healthz())
	route(get, server.ReadyPath, d.gate.readyz())
	route(get, "/healthz/feed", endpoint(d.tokens, public, handleFeedPing(d.feed), statusReply{}))
	r.PathPrefix("/static/").Methods(get, http.MethodHead).Handler(handleStatic(d.images))
	if d.mediaDir != "" {
		r.PathPrefix("/media/").Methods(get, http.MethodHead).Handler(handleMedia(d.mediaDir))
	}
	if d.web != nil {
		r.Handle("/", d.web.page()).Methods(get, http.MethodHead)
		r.PathPrefix(webAssetsPrefix).Methods(get, http.MethodHead).Handler(d.web.assets())
	}

	r.Use(metrics.Routes)
	server.UseEnvelopeFallbacks(r)
	return logging.Middleware(d.log)(d.gate.guard(boundedRequest(withoutTrailingSlash(r))))
}

// Bounds of a request's query string and headers: far above what any client sends, far below
// what would cost the servers. (Go refuses a header block over server.MaxHeaderBytes itself,
// without the envelope.)
const (
	maxQueryBytes  = 8 << 10
	maxHeaderBytes = 32 << 10
)

// boundedRequest refuses a query string or headers over their bounds: a mobile endpoint answers
// the refusal in its reply shape (refuse), any other route with the plain envelope here.
func boundedRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		if len(r.URL.RawQuery) > maxQueryBytes {
			err = apperr.New(apperr.QueryTooLong)
		} else if headerBytes(r.Header) > maxHeaderBytes {
			err = apperr.New(apperr.HeadersTooLarge)
		}
		switch {
		case err == nil:
		case strings.HasPrefix(r.URL.Path, "/douyin/"):
			r = refuse(r, err)
		default:
			envelope.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func headerBytes(h http.Header) int {
	size := 0
	for name, values := range h {
		for _, v := range values {
			size += len(name) + len(v)
		}
	}
	return size
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
