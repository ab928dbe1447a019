package delayed

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/metrics"
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/server"
)

// Dead letters. An event that can never be saved (undecodable, or refused by the database for
// its data) is answered DROP, and the sidecar moves it to <topic>.dead. Nothing would ever read
// that topic, so each service subscribes to its own and keeps what arrives in the dead_letters
// table of its schema: logged at error level, counted by the sidecars' own metric
// (dapr_component_pubsub_ingress_count, topic "<topic>.dead"), visible with SQL, and published
// to the topic again by ReplayPath once the cause is fixed (`make replay-dead-letters`).
//
// A failure that is not the event's own (the database down or hung) is never dead-lettered: the
// delivery is retried until it succeeds (components/resiliency.yaml).

// ReplayPath is the internal method that publishes a service's dead letters again.
const ReplayPath = "/dead-letters/replay"

// deadLettersSchema is the table, created by the skeleton in every schema that uses it. The key
// is a digest of the event, so a dead letter delivered twice is kept once; the data is kept as
// bytes, because what PostgreSQL refused as text (a NUL) must still be storable here.
const deadLettersSchema = `CREATE TABLE IF NOT EXISTS dead_letters (
	digest      text        PRIMARY KEY,
	topic       text        NOT NULL,
	data        bytea       NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now()
)`

// replayBatch is how many dead letters one replay reads at a time.
const replayBatch = 500

func deadRoute(route string) string { return route + "/dead" }

func createDeadLetters(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, deadLettersSchema); err != nil && !pgdb.IsUniqueViolation(err) {
		// Replicas starting together may race on the catalog; the loser's unique violation is fine.
		return fmt.Errorf("create dead_letters: %w", err)
	}
	return nil
}

// keepDeadLetter stores one event of topic's dead-letter topic under topic, the topic a replay
// publishes it to; a database error asks for redelivery, so a dead letter is never lost either.
// Keeping one again renews its received_at: a replay forgets only the rows it read (received
// before it began), so an event that dies again while its replay is still running stays kept.
func keepDeadLetter(db *sql.DB, topic string) http.Handler {
	return events.Handler(func(ctx context.Context, data json.RawMessage) error {
		sum := sha256.Sum256(data)
		digest := hex.EncodeToString(sum[:])
		_, err := db.ExecContext(ctx, `INSERT INTO dead_letters (digest, topic, data) VALUES ($1, $2, $3)
			ON CONFLICT (digest) DO UPDATE SET received_at = now()`, digest, topic, []byte(data))
		if err != nil {
			return err
		}
		logging.FromContext(ctx).Error("dead letter kept: replay it with `make replay-dead-letters` once its cause is fixed",
			zap.String("topic", topic), zap.String("digest", digest), zap.Int("bytes", len(data)))
		return nil
	})
}

// countDeadLetters keeps the metric of the dead letters waiting for a replay, until ctx ends. It
// counts the table every scrape interval rather than when this replica keeps or replays one:
// every replica reads the same table, so each one's figure stays current whoever changed it. The
// table is small (a dead letter is a defect to fix), so counting it whole is cheap.
func countDeadLetters(ctx context.Context, db *sql.DB) {
	for {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM dead_letters`).Scan(&n); err == nil {
			metrics.DeadLettersWaiting(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(15 * time.Second):
		}
	}
}

// replayReply is the answer of ReplayPath.
type replayReply struct {
	envelope.Status
	Replayed int `json:"replayed"`
}

// replayDeadLetters publishes every kept dead letter to its topic again and forgets it, a batch
// at a time. A crash between the two publishes some twice, which the consumers' idempotence
// absorbs.
func replayDeadLetters(s *Service) http.Handler {
	return server.Method(func(ctx context.Context, _ struct{}) (replayReply, error) {
		// Only what is kept now: a replayed event that dies again comes back as a new row.
		var snapshot time.Time
		if err := s.DB.QueryRowContext(ctx, `SELECT now()`).Scan(&snapshot); err != nil {
			return replayReply{}, err
		}
		replayed := 0
		for {
			type letter struct {
				digest, topic string
				data          []byte
			}
			letters, err := pgdb.All(ctx, s.DB, func(rows *sql.Rows) (letter, error) {
				var l letter
				err := rows.Scan(&l.digest, &l.topic, &l.data)
				return l, err
			}, `SELECT digest, topic, data FROM dead_letters WHERE received_at <= $1
				ORDER BY received_at LIMIT $2`, snapshot, replayBatch)
			if err != nil {
				return replayReply{}, err
			}
			if len(letters) == 0 {
				break
			}
			digests := make([]string, len(letters))
			for i, l := range letters {
				if err := events.Publish(ctx, s.SDK(), l.topic, json.RawMessage(l.data)); err != nil {
					return replayReply{}, err
				}
				digests[i] = l.digest
			}
			// Not one that died again since the snapshot: it was kept anew after this read.
			if _, err := s.DB.ExecContext(ctx, `DELETE FROM dead_letters WHERE digest = ANY($1) AND received_at <= $2`,
				digests, snapshot); err != nil {
				return replayReply{}, err
			}
			replayed += len(letters)
		}
		s.Log.Info("dead letters replayed", zap.Int("events", replayed))
		return replayReply{Status: envelope.Success, Replayed: replayed}, nil
	})
}
