package boot

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// servePprof serves Go's profiles on loopback when DEBUG_PPROF is set (to "1", or to a loopback
// address such as 127.0.0.1:6060), for finding where a benchmark's time goes. It prints the
// address, which is on a free port unless one is named. Off by default: never in production.
func servePprof(name string, getenv func(string) string) {
	addr := getenv("DEBUG_PPROF")
	if addr == "" {
		return
	}
	if addr == "1" {
		addr = "127.0.0.1:0"
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(os.Stderr, "%s: DEBUG_PPROF %q is not a loopback address; profiles not served\n", name, addr)
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: pprof: %v\n", name, err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	fmt.Fprintf(os.Stderr, "%s: pprof on http://%s/debug/pprof/\n", name, ln.Addr())
	go http.Serve(ln, mux)
}
