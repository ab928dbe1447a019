package main

import (
	"sync"
	"time"

	"github.com/doutok/doutok/services/internal/apperr"
)

// uploadSlots caps the uploads in progress, in all and per user: each holds a spooled file here
// and a video being checked and cut in publish, so a client (or many) starting more gets a clear
// refusal with a time to retry instead of filling the disk and the CPUs.
type uploadSlots struct {
	mu         sync.Mutex
	total      int
	perUser    map[int64]int
	maxTotal   int
	maxPerUser int
}

// retryUploadAfter is what a refused upload is told to wait.
const retryUploadAfter = 10 * time.Second

func newUploadSlots(maxTotal, maxPerUser int) *uploadSlots {
	return &uploadSlots{perUser: map[int64]int{}, maxTotal: maxTotal, maxPerUser: maxPerUser}
}

// take reserves a slot for an upload, and for its user once known (anonymous until then); it
// answers UploadsBusy or TooManyUploads, with the time to retry, when the caps are reached.
func (s *uploadSlots) take(user int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if user == anonymous {
		if s.total >= s.maxTotal {
			return &apperr.Later{Err: apperr.New(apperr.UploadsBusy), After: retryUploadAfter}
		}
		s.total++
		return nil
	}
	if s.perUser[user] >= s.maxPerUser {
		return &apperr.Later{Err: apperr.New(apperr.TooManyUploads), After: retryUploadAfter}
	}
	s.perUser[user]++
	return nil
}

// give returns what take reserved.
func (s *uploadSlots) give(user int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if user == anonymous {
		s.total--
		return
	}
	if s.perUser[user]--; s.perUser[user] <= 0 {
		delete(s.perUser, user)
	}
}
