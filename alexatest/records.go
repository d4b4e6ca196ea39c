package alexatest

import "net/http"

// ring keeps the most recent records of one kind: at most max of them and
// at most maxBytes of their estimated size, the oldest evicted first. Each
// record gets a sequence number, increasing for the emulator's lifetime
// (Reset included), which listings use as their cursor. It is not safe
// for concurrent use: the Emulator's mutex guards it.
type ring[T any] struct {
	buf      []T // circular, grown by doubling up to max
	start    int // index in buf of the oldest record
	n        int // records held
	max      int
	bytes    int64 // estimated size of the records held
	maxBytes int64
	size     func(*T) int64
	onEvict  func(*T) // optional
	next     uint64   // sequence number of the next record pushed
	evicted  uint64   // records evicted since the last reset
}

func newRing[T any](max int, maxBytes int64, size func(*T) int64) *ring[T] {
	return &ring[T]{max: max, maxBytes: maxBytes, size: size}
}

// push appends v, evicting the oldest records beyond the limits. A ring
// with max <= 0 keeps nothing (but still numbers v).
func (r *ring[T]) push(v T) {
	r.next++
	if r.max <= 0 {
		r.evicted++
		return
	}
	sz := r.size(&v)
	for r.n > 0 && (r.n >= r.max || r.bytes+sz > r.maxBytes) {
		r.popOldest()
	}
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.start+r.n)%len(r.buf)] = v
	r.n++
	r.bytes += sz
}

func (r *ring[T]) popOldest() {
	var zero T
	r.bytes -= r.size(&r.buf[r.start])
	if r.onEvict != nil {
		r.onEvict(&r.buf[r.start])
	}
	r.buf[r.start] = zero // let the record be collected
	r.start = (r.start + 1) % len(r.buf)
	r.n--
	r.evicted++
}

// grow doubles the buffer, up to max, keeping the records in order.
func (r *ring[T]) grow() {
	c := min(max(2*len(r.buf), 16), r.max)
	buf := make([]T, c)
	for i := range r.n {
		buf[i] = r.buf[(r.start+i)%len(r.buf)]
	}
	r.buf, r.start = buf, 0
}

// at returns the i-th record held, oldest first.
func (r *ring[T]) at(i int) *T { return &r.buf[(r.start+i)%len(r.buf)] }

// first is the sequence number of the oldest record held.
func (r *ring[T]) first() uint64 { return r.next - uint64(r.n) }

// all copies the records held, oldest first, that keep reports true for
// (all of them when keep is nil).
func (r *ring[T]) all(keep func(*T) bool) []T {
	out := []T{}
	for i := range r.n {
		if v := r.at(i); keep == nil || keep(v) {
			out = append(out, *v)
		}
	}
	return out
}

// page copies, oldest first, at most limit records with a sequence
// number from cursor on that match keep, stopping early once they add up
// to budget bytes (at least one record is returned when any matches).
// When more match, next is the sequence number of the following one and
// more is true. Only the page is copied: the ring is scanned, not cloned.
func (r *ring[T]) page(cursor uint64, limit int, budget int64, keep func(*T) bool) (items []T, next uint64, more bool) {
	items = []T{}
	i := 0
	if f := r.first(); cursor > f {
		i = int(min(cursor-f, uint64(r.n)))
	}
	var used int64
	for ; i < r.n; i++ {
		v := r.at(i)
		if keep != nil && !keep(v) {
			continue
		}
		sz := r.size(v)
		if len(items) == limit || (len(items) > 0 && used+sz > budget) {
			return items, r.first() + uint64(i), true
		}
		items = append(items, *v)
		used += sz
	}
	return items, 0, false
}

// reset forgets every record; sequence numbers keep increasing so that a
// cursor from before the reset never points into new records.
func (r *ring[T]) reset() {
	r.buf, r.start, r.n, r.bytes, r.evicted = nil, 0, 0, 0, 0
}

// len returns how many records are held.
func (r *ring[T]) len() int { return r.n }

// Estimated memory of one record, for Options.MaxRecordBytes and the
// listing page budget: the bytes it holds plus a fixed overhead.
func eventSize(ev *Event) int64 {
	n := 512 + 2*len(ev.Body) + len(ev.Audience) + headerSize(ev.Header) // Body, and Request decoded from it
	for _, s := range ev.Preview {
		n += 32 + len(s.Locale) + len(s.Text)
	}
	for _, u := range ev.Subscribers {
		n += 16 + len(u)
	}
	return int64(n)
}

func messageSize(m *Message) int64 {
	n := int64(128 + len(m.UserID) + len(m.Data) + headerSize(m.Header))
	if m.Skill != nil {
		// Later snapshots of the delivery replace it, so count the
		// largest: an error and a response of the most kept.
		n += 256 + 2*maxSkillResponse
	}
	return n
}

func tokenRequestSize(t *TokenRequest) int64 {
	return int64(128 + len(t.GrantType) + len(t.ClientID) + len(t.Scope) + len(t.Error) + len(t.UserID))
}

func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		n += 48 + len(k)
		for _, v := range vs {
			n += 16 + len(v)
		}
	}
	return n
}
