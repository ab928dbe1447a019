//go:build e2e

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A like sent with a W3C traceparent stays in that trace from the gateway to the event the
// favorite service publishes: the gateway passes the trace context to its sidecar, the sidecars
// continue it to favorite, and favorite passes it to its sidecar when it publishes, which writes
// it into the event (the CloudEvent's traceparent), where the consumer's sidecar picks it up.
// The event is read from the Redis stream, so this runs on the local set.
func TestALikeKeepsItsTraceIntoTheEvent(t *testing.T) {
	if onKafkaS3() {
		t.Skip("reads the event from the Redis stream of the local set")
	}
	author, fan := register(t, "traceauthor"), register(t, "tracefan")
	video := publishedVideo(t, author)
	var ids [24]byte
	_, _ = rand.Read(ids[:])
	traceID := hex.EncodeToString(ids[:16])
	header := http.Header{"Traceparent": {"00-" + traceID + "-" + hex.EncodeToString(ids[16:]) + "-01"}}
	do(t, http.MethodPost, "/douyin/favorite/action/", url.Values{
		"video_id": {strconv.FormatInt(video, 10)}, "action_type": {"1"}, "token": {fan.Token}}, nil, header).expect(t, 200, 0)
	eventually(t, 10*time.Second, func() (bool, string) {
		out, err := exec.Command("redis-cli", "-p", strconv.Itoa(stackCf.RedisPort), "--raw",
			"XREVRANGE", "favorite.changed", "+", "-", "COUNT", "500").CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli: %v: %s", err, out)
		}
		return strings.Contains(string(out), traceID), "no favorite.changed event carries the like's trace id " + traceID
	})
}
