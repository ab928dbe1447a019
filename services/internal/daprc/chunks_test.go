package daprc

import (
	"errors"
	"slices"
	"testing"
)

func TestInChunksCoversEveryIDOnceWithinTheLimit(t *testing.T) {
	for _, n := range []int{0, 1, 499, 500, 501, 1234} {
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = int64(i)
		}
		var seen []int64
		err := InChunks(ids, 500, func(part []int64) error {
			if len(part) == 0 || len(part) > 500 {
				t.Fatalf("n=%d: a part of %d ids", n, len(part))
			}
			seen = append(seen, part...)
			return nil
		})
		if err != nil || !slices.Equal(seen, ids) {
			t.Fatalf("n=%d: saw %d ids (%v)", n, len(seen), err)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := InChunks([]int{1, 2, 3}, 1, func([]int) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("an error must end the walk: %v after %d calls", err, calls)
	}
}
