//go:build e2e

package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"sync"
)

// zipkinSpan is the part of a Zipkin v2 span the trace test reads.
type zipkinSpan struct {
	TraceID       string                       `json:"traceId"`
	ID            string                       `json:"id"`
	ParentID      string                       `json:"parentId"`
	Name          string                       `json:"name"`
	Kind          string                       `json:"kind"`
	LocalEndpoint struct{ ServiceName string } `json:"localEndpoint"`
	Tags          map[string]string            `json:"tags"`
}

// spanSink takes the spans the sidecars export (dapr/config.yaml's Zipkin endpoint) and keeps
// those of the traces a test asked for; the others are read and dropped.
type spanSink struct {
	mu      sync.Mutex
	watched map[string][]zipkinSpan
}

// startSpanSink serves a Zipkin v2 endpoint on addr and returns its URL.
func startSpanSink(addr string) (*spanSink, string, error) {
	sink := &spanSink{watched: map[string][]zipkinSpan{}}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var spans []zipkinSpan
		if err := json.NewDecoder(r.Body).Decode(&spans); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sink.mu.Lock()
		for _, s := range spans {
			if kept, ok := sink.watched[s.TraceID]; ok {
				sink.watched[s.TraceID] = append(kept, s)
			}
		}
		sink.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	return sink, "http://" + ln.Addr().String() + "/api/v2/spans", nil
}

// watch starts keeping the spans of a trace.
func (s *spanSink) watch(traceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watched[traceID] = nil
}

// spans returns what was kept of a trace so far.
func (s *spanSink) spans(traceID string) []zipkinSpan {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]zipkinSpan(nil), s.watched[traceID]...)
}
