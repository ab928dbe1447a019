//go:build e2e

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A like sent with a W3C traceparent is one trace from the gateway to the consumer that persists
// it: the gateway passes the trace context to its sidecar, which calls favorite; favorite passes it
// on when it publishes the change; the event carries it through the broker; and the consumer's
// delivery continues it. The sidecars export their spans (dapr/config.yaml) to the test's Zipkin
// endpoint, and the chain is read from the consumer's delivery span up to the client's span. (What
// the consumer then writes joins the trace of whichever delivery leads its batch: deliveries are
// persisted together.)
func TestALikeIsOneTraceFromTheGatewayToTheConsumer(t *testing.T) {
	author, fan := register(t, "traceauthor"), register(t, "tracefan")
	video := publishedVideo(t, author)
	var ids [24]byte
	_, _ = rand.Read(ids[:])
	traceID, clientSpan := hex.EncodeToString(ids[:16]), hex.EncodeToString(ids[16:])
	spans.watch(traceID)
	header := http.Header{"Traceparent": {"00-" + traceID + "-" + clientSpan + "-01"}}
	do(t, http.MethodPost, "/douyin/favorite/action/", url.Values{
		"video_id": {strconv.FormatInt(video, 10)}, "action_type": {"1"}, "token": {fan.Token}}, nil, header).expect(t, 200, 0)

	// From the consumer's delivery up to the client, each span the parent of the one before.
	want := []string{
		"favorite CLIENT pubsub/favorite.changed",                  // favorite's sidecar delivers the event to its consumer
		"favorite CLIENT /dapr.proto.runtime.v1.dapr/publishevent", // favorite publishes the change
		"favorite SERVER calllocal/favorite/likes/apply",           // favorite's sidecar takes the call
		"api CLIENT calllocal/favorite/likes/apply",                // the gateway's sidecar calls favorite
	}
	var chain []string
	eventually(t, 30*time.Second, func() (bool, string) {
		byID := map[string]zipkinSpan{}
		var delivery *zipkinSpan
		for _, s := range spans.spans(traceID) {
			byID[s.ID] = s
			if s.LocalEndpoint.ServiceName == "favorite" && s.Name == "pubsub/favorite.changed" {
				delivery = &s
			}
		}
		if delivery == nil {
			return false, fmt.Sprintf("no delivery of the like's event among the %d spans of trace %s", len(byID), traceID)
		}
		chain = chain[:0]
		for s, ok := *delivery, true; ok; s, ok = byID[s.ParentID] {
			chain = append(chain, s.LocalEndpoint.ServiceName+" "+s.Kind+" "+s.Name)
			if s.ParentID == clientSpan {
				chain = append(chain, "the client's span "+clientSpan)
				break
			}
		}
		return strings.Join(chain, "\n") == strings.Join(append(want, "the client's span "+clientSpan), "\n"),
			"the trace from the consumer up:\n  " + strings.Join(chain, "\n  ")
	})
	t.Logf("trace %s, from the consumer up:\n  %s", traceID, strings.Join(chain, "\n  "))
}
