package alexatest

import (
	"container/heap"
	"crypto/sha256"
	"time"

	"github.com/alexa-oos/alexa/proactive"
)

// DefaultMaxReferenceIDs is how many accepted referenceIds the emulator
// remembers at most, by default, to refuse a repeat with 409.
const DefaultMaxReferenceIDs = 100_000

// minRefRetention is the least time a referenceId is remembered, even when
// its event's expiryTime has passed: long enough for any client retry.
const minRefRetention = 5 * time.Minute

// refSet remembers accepted referenceIds per stage and audience, bounded
// in time and in count:
//
//   - A referenceId is remembered until its event's expiryTime (at least
//     five minutes, and at most 24 hours or the Rules' MaxExpiry after it
//     was accepted): a repeat after the event expired is accepted again,
//     as the first one can no longer be delivered.
//   - At most max are remembered; when full, the one due to be forgotten
//     soonest is forgotten first.
//
// Each costs a fixed few dozen bytes, whatever its referenceId and
// audience: keys are stored as 128-bit hashes.
type refSet struct {
	max  int
	keep time.Duration // the longest a referenceId is remembered
	m    map[refKey]struct{}
	h    refHeap
	seq  uint64
}

type refKey [16]byte

type refEntry struct {
	key    refKey
	forget int64 // unix nanoseconds
	seq    uint64
}

// refHeap orders entries by when they are forgotten, then by age.
type refHeap []refEntry

func (h refHeap) Len() int { return len(h) }
func (h refHeap) Less(i, j int) bool {
	return h[i].forget < h[j].forget || h[i].forget == h[j].forget && h[i].seq < h[j].seq
}
func (h refHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *refHeap) Push(x any)   { *h = append(*h, x.(refEntry)) }
func (h *refHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newRefSet(limit int, keep time.Duration) *refSet {
	return &refSet{max: limit, keep: max(keep, minRefRetention), m: map[refKey]struct{}{}}
}

func refKeyOf(stage proactive.Stage, audience, referenceID string) refKey {
	h := sha256.New()
	h.Write([]byte(stage))
	h.Write([]byte{0})
	h.Write([]byte(audience))
	h.Write([]byte{0})
	h.Write([]byte(referenceID))
	var k refKey
	copy(k[:], h.Sum(nil))
	return k
}

// add remembers k until expiry (bounded as the type says) and reports
// whether it was new; false means a repeat to refuse.
func (s *refSet) add(k refKey, expiry, now time.Time) bool {
	if s.max <= 0 {
		return true
	}
	s.expire(now)
	if _, dup := s.m[k]; dup {
		return false
	}
	forget := expiry
	if lo := now.Add(minRefRetention); forget.Before(lo) {
		forget = lo
	}
	if hi := now.Add(s.keep); forget.After(hi) {
		forget = hi
	}
	s.m[k] = struct{}{}
	s.seq++
	heap.Push(&s.h, refEntry{key: k, forget: forget.UnixNano(), seq: s.seq})
	for len(s.m) > s.max && len(s.h) > 0 {
		delete(s.m, heap.Pop(&s.h).(refEntry).key)
	}
	return true
}

// expire forgets the referenceIds due by now.
func (s *refSet) expire(now time.Time) {
	t := now.UnixNano()
	for len(s.h) > 0 && s.h[0].forget <= t {
		delete(s.m, heap.Pop(&s.h).(refEntry).key)
	}
}

func (s *refSet) len() int { return len(s.m) }

func (s *refSet) reset() {
	s.m, s.h = map[refKey]struct{}{}, nil
}
