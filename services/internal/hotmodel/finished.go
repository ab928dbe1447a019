package hotmodel

import "sync"

// Finished remembers, by event id, the changes whose request finished making them visible in
// this process, so that the event consumer (usually the same process) can skip checking the hot
// model for them. It is only a shortcut: a change it does not know (forgotten, made on another
// replica, or before a restart) gets the full check. A nil *Finished remembers nothing.
type Finished struct {
	mu  sync.Mutex
	ids map[string]struct{}
	max int
}

// NewFinished returns a memory of at most max event ids.
func NewFinished(max int) *Finished { return &Finished{max: max} }

// Add records that eventID's change is fully visible.
func (f *Finished) Add(eventID string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids == nil || len(f.ids) >= f.max {
		f.ids = map[string]struct{}{} // forget all rather than track age: misses cost a check
	}
	f.ids[eventID] = struct{}{}
}

// Take reports whether eventID's change was finished here, forgetting it: a redelivery of the
// same event is checked.
func (f *Finished) Take(eventID string) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.ids[eventID]
	delete(f.ids, eventID)
	return ok
}

func (f *Finished) clearAll() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = nil
}
