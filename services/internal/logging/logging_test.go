package logging

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
)

// A well-formed traceparent is continued; anything else starts a new, sampled trace, so a client
// cannot put arbitrary text into the logs or the sidecars' headers.
func TestMiddlewareKeepsAWellFormedTraceparentOnly(t *testing.T) {
	const good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	seen := func(header string) string {
		var tp string
		h := Middleware(zap.NewNop())(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			tp = Traceparent(r.Context())
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			req.Header.Set(TraceparentHeader, header)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		return tp
	}
	if got := seen(good); got != good {
		t.Fatalf("a well-formed traceparent became %q", got)
	}
	for _, bad := range []string{"", "garbage", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", good + "\nforged log line"} {
		got := seen(bad)
		if got == bad || !validTraceparent.MatchString(got) {
			t.Errorf("traceparent %q became %q: want a new, well-formed one", bad, got)
		}
	}
	if a, b := seen(""), seen(""); a == b {
		t.Fatalf("two requests without a traceparent share the trace %s", a)
	}
	if Traceparent(context.Background()) != "" {
		t.Fatal("a context outside a request has a trace")
	}
}
