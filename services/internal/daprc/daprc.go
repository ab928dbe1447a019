// Package daprc is the thin client every service uses to reach its own Dapr sidecar.
//
// Service invocation goes over plain HTTP with the dapr-app-id header: the go-sdk remaps HTTP
// errors and truncates bodies, while our envelope must reach the caller intact. State, pub/sub,
// bindings and secrets use the go-sdk's gRPC client.
package daprc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/server"
)

// Component names, the same in every environment.
const (
	StateStore  = "statestore"
	PubSub      = "pubsub"
	Media       = "media"
	SecretStore = "secretstore"
)

// Client talks to the sidecar on loopback.
type Client struct {
	httpBase string
	apiToken string
	http     *http.Client
	sdk      dapr.Client
}

// Config locates the sidecar. APIToken is DAPR_API_TOKEN, which the sidecar requires of its app.
type Config struct {
	HTTPPort string
	GRPCPort string
	APIToken string
}

// Connect waits until the sidecar's outbound side is healthy (up to a minute), then opens the
// gRPC client. Call it after the app's own port is open: daprd waits for that port.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
	}
	c := &Client{
		httpBase: "http://127.0.0.1:" + cfg.HTTPPort,
		apiToken: cfg.APIToken,
		http:     &http.Client{Transport: transport, Timeout: 2 * time.Minute},
	}
	if err := c.waitOutbound(ctx); err != nil {
		return nil, err
	}
	sdk, err := dapr.NewClientWithAddressContext(ctx, "127.0.0.1:"+cfg.GRPCPort, grpc.WithChainUnaryInterceptor(traceGRPC))
	if err != nil {
		return nil, fmt.Errorf("connect to sidecar gRPC: %w", err)
	}
	c.sdk = sdk
	return c, nil
}

func (c *Client) waitOutbound(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.httpBase+"/v1.0/healthz/outbound", nil)
		resp, err := c.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sidecar at %s not healthy: %w", c.httpBase, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// SDK returns the go-sdk client for state, pub/sub, bindings and secrets.
func (c *Client) SDK() dapr.Client { return c.sdk }

// Close releases the gRPC connection.
func (c *Client) Close() {
	if c.sdk != nil {
		c.sdk.Close()
	}
}

// Invoke POSTs in as JSON to method of app through the sidecar and decodes the envelope answer
// into out (which may be nil). A non-zero status_code comes back as the same application error.
func (c *Client) Invoke(ctx context.Context, app, method string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s/%s request: %w", app, method, err)
	}
	return c.InvokeStream(ctx, app, method, "application/json", int64(len(body)), bytes.NewReader(body), out)
}

// InvokeStream POSTs body (size bytes, or -1 when unknown) to method of app through the sidecar,
// streaming it, and decodes the envelope answer into out.
func (c *Client) InvokeStream(ctx context.Context, app, method, contentType string, size int64, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.httpBase+"/"+method, body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("dapr-app-id", app)
	c.authorize(ctx, req)
	resp, err := c.http.Do(req)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, fmt.Errorf("invoke %s/%s: %w", app, method, err))
	}
	defer resp.Body.Close()
	if err := envelope.Read(resp.Body, out); err != nil {
		if apperr.Is(err, apperr.Internal) && resp.StatusCode != http.StatusOK {
			// Not our envelope: the sidecar itself failed (app down, timeout, resiliency open).
			return apperr.Wrap(apperr.Unavailable, fmt.Errorf("invoke %s/%s: HTTP %d", app, method, resp.StatusCode))
		}
		return err
	}
	return nil
}

// Ready asks app, through the sidecars, whether it is ready (its server.ReadyPath route). The
// answer proves more than the app's own health: the caller's sidecar resolves the app, and the
// app's sidecar has found the app healthy and forwards calls to it.
func (c *Client) Ready(ctx context.Context, app string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.httpBase+server.ReadyPath, nil)
	if err != nil {
		return err
	}
	req.Header.Set("dapr-app-id", app)
	c.authorize(ctx, req)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", app, err)
	}
	defer resp.Body.Close()
	if err := envelope.Read(resp.Body, nil); err != nil {
		return fmt.Errorf("%s: HTTP %d: %w", app, resp.StatusCode, err)
	}
	return nil
}

func (c *Client) authorize(ctx context.Context, req *http.Request) {
	if c.apiToken != "" {
		req.Header.Set("dapr-api-token", c.apiToken)
	}
	if id := logging.RequestID(ctx); id != "" {
		req.Header.Set(logging.RequestIDHeader, id)
	}
	if tp := logging.Traceparent(ctx); tp != "" {
		req.Header.Set(logging.TraceparentHeader, tp)
	}
}

// traceGRPC passes the request's trace context to the sidecar on every gRPC call (state,
// pub/sub, bindings): daprd reads traceparent metadata, so an event published while serving a
// request belongs to that request's trace.
func traceGRPC(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if tp := logging.Traceparent(ctx); tp != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, logging.TraceparentHeader, tp)
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// InChunks calls fn with consecutive parts of ids of at most max each (none for no ids): batch
// clients use it so that a batch method's limit never reaches their callers, whatever the size
// of the list they were given.
func InChunks[T any](ids []T, max int, fn func([]T) error) error {
	for start := 0; start < len(ids); start += max {
		if err := fn(ids[start:min(start+max, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}
