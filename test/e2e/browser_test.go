//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The web client, as the gateway serves it, in Debian's Chromium (web/e2e/browser.mjs): two users
// register; A uploads a video through the page; B finds it in the feed, sees it play, likes and
// comments (deleting a second one again); A sees both counts; they follow each other, appear as
// friends and chat, each message shown once. Its screenshots are in web/test-results (a failing step saves failure-<step>.png).
// The page's requests are the mobile API's, so the local set's run covers them.
func TestTheWebClientInChromium(t *testing.T) {
	sameOnEverySet(t)
	web := filepath.Join(stackCf.Root, "web")
	if _, err := os.Stat(filepath.Join(web, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("the web client's packages are not installed: run `make web` (make e2e does): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("e2e", "browser.mjs"))
	cmd.Dir = web
	cmd.Env = append(os.Environ(), "DOUTOK_URL="+baseURL)
	out, err := cmd.CombinedOutput()
	t.Logf("web/e2e/browser.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed (%v); screenshots in %s", err, filepath.Join(web, "test-results"))
	}
}
