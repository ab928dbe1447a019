//go:build e2e

package e2e

import "testing"

// What matters on Kafka for exactly-once effects, beyond what every set is tested for. The
// consumers' crashes (TestCrashOfTheFavoriteSidecarLosesNoAcknowledgedLike and its siblings: a
// sidecar killed mid-batch rejoins its consumer group and resumes from the committed offset;
// what was redelivered changes nothing) and the dead letters (TestDeadLettersAreKeptAndReplayed)
// run on both sets; `make test` runs the suite on each.

// The broker is killed (SIGKILL) in the middle of a burst of likes and started again: every
// acknowledged like reaches PostgreSQL exactly once, and the counts agree with it. The broker's
// log and the groups' committed offsets survive the kill; the sidecars reconnect, producers and
// consumers alike.
func TestKafkaBrokerKilledLosesNoAcknowledgedLike(t *testing.T) {
	if !onKafkaS3() {
		t.Skip("a Kafka broker runs on the kafka-s3 set only")
	}
	author, acked, videos := burstWithCrash(t, "kafka")
	checkEveryAcknowledgedLikePersistedOnce(t, author, acked, videos)
}
