// Package events publishes domain events to the pubsub component and serves the subscription
// side of Dapr's pub/sub contract (GET /dapr/subscribe and the delivery routes) on a gorilla/mux
// router, which the go-sdk's chi-based service package does not cover.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/metrics"
)

// maxEventBytes bounds one delivered event.
const maxEventBytes = 1 << 20

// Publish sends v as JSON on topic and returns once the broker has accepted it.
func Publish(ctx context.Context, sdk dapr.Client, topic string, v any) error {
	if err := sdk.PublishEvent(ctx, daprc.PubSub, topic, v, dapr.PublishEventWithContentType("application/json")); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// Subscription is one topic this service consumes.
type Subscription struct {
	PubSubName      string `json:"pubsubname"`
	Topic           string `json:"topic"`
	Route           string `json:"route"`
	DeadLetterTopic string `json:"deadLetterTopic,omitempty"`
}

// Subscribe returns a subscription of topic delivered to route; poison events go to
// DeadLetters(topic).
func Subscribe(topic, route string) Subscription {
	return Subscription{PubSubName: daprc.PubSub, Topic: topic, Route: route, DeadLetterTopic: DeadLetters(topic)}
}

// DeadLetters names the dead-letter topic of topic.
func DeadLetters(topic string) string { return topic + ".dead" }

// ListHandler answers GET /dapr/subscribe.
func ListHandler(subs ...Subscription) http.Handler {
	body, _ := json.Marshal(append([]Subscription{}, subs...)) // [] rather than null when none
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// ErrPoison marks an event that can never be processed: it goes to the dead-letter topic
// instead of being retried.
var ErrPoison = errors.New("poison event")

// Handler decodes a delivered CloudEvent's data into a T and calls handle. A nil error
// acknowledges the event; ErrPoison (or undecodable data) drops it to the dead-letter topic; any
// other error asks Dapr to redeliver it (bounded by the resiliency policy).
func Handler[T any](handle func(ctx context.Context, event T) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := logging.FromContext(r.Context())
		var envelope struct {
			ID    string          `json:"id"`
			Topic string          `json:"topic"`
			Time  string          `json:"time"` // when the publisher's sidecar wrapped it (RFC 3339)
			Data  json.RawMessage `json:"data"`
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxEventBytes))
		var event T
		if err == nil {
			err = json.Unmarshal(raw, &envelope)
		}
		if err == nil {
			err = json.Unmarshal(envelope.Data, &event)
		}
		// Only for the delay metric: an event without a readable time is still processed.
		published, _ := time.Parse(time.RFC3339Nano, envelope.Time)
		if err != nil {
			log.Error("undecodable event dropped to the dead-letter topic", zap.Error(err))
			metrics.Event(envelope.Topic, metrics.DeadLettered, published)
			answer(w, "DROP")
			return
		}
		if err := handle(r.Context(), event); err != nil {
			if errors.Is(err, ErrPoison) {
				log.Error("poison event dropped to the dead-letter topic", zap.String("event_id", envelope.ID))
				metrics.Event(envelope.Topic, metrics.DeadLettered, published)
				answer(w, "DROP")
				return
			}
			log.Warn("event will be redelivered", zap.String("event_id", envelope.ID), zap.Error(err))
			metrics.Event(envelope.Topic, metrics.Redelivered, published)
			answer(w, "RETRY")
			return
		}
		metrics.Event(envelope.Topic, metrics.Processed, published)
		answer(w, "SUCCESS")
	})
}

func answer(w http.ResponseWriter, status string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"status":%q}`, status)
}
