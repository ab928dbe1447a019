//go:build e2e

package e2e

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A client that sends its request slower than the server's deadlines allow (READ_HEADER_TIMEOUT
// and READ_TIMEOUT, 2 s and 4 s in this stack) loses its connection instead of holding it, and
// with it a goroutine, forever.
func TestSlowClientsAreCutOff(t *testing.T) {
	sameOnEverySet(t)
	t.Parallel()
	for name, partial := range map[string]string{
		"headers never finished": "GET /douyin/feed/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ",
		"body never finished": "POST /douyin/comment/action/ HTTP/1.1\r\nHost: localhost\r\n" +
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nvideo_id=1&",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(partial)); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			// Whatever the server says (a status line or nothing), it must end the connection.
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			r := bufio.NewReader(conn)
			for {
				if _, err := r.ReadByte(); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						t.Fatalf("the server still held the connection after %s", time.Since(start).Round(time.Second))
					}
					return
				}
			}
		})
	}
}

func TestOversizedQueryAndHeadersAnswerTheEnvelope(t *testing.T) {
	sameOnEverySet(t)
	t.Parallel()
	get(t, "/douyin/feed/", url.Values{"padding": {strings.Repeat("x", 9<<10)}}).expect(t, http.StatusRequestURITooLong, 40006)
	do(t, http.MethodGet, "/douyin/feed/", nil, nil, http.Header{"X-Padding": {strings.Repeat("x", 40<<10)}}).
		expect(t, http.StatusRequestHeaderFieldsTooLarge, 40007)
	get(t, "/douyin/feed/", url.Values{"padding": {strings.Repeat("x", 4<<10)}}).expect(t, http.StatusOK, 0)
}
