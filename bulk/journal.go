package bulk

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexa-oos/alexa/internal/filelock"
	"github.com/alexa-oos/alexa/proactive"
)

// journalMagic names the format in a journal's header line.
const journalMagic = "alexa-oos bulk journal"

// journalVersion is the journal format this package writes, and the only
// one it reads. Version 1 recorded line numbers, which a rerun with an
// edited input matched to the wrong items; such journals are refused.
const journalVersion = 2

var (
	// ErrJournalMismatch is returned (wrapped) when a journal was written
	// by a job of another kind or stage.
	ErrJournalMismatch = errors.New("journal belongs to another kind of job")
	// ErrJournalLocked is returned (wrapped) when another job, in this
	// process or another, has the journal open.
	ErrJournalLocked = errors.New("journal is in use by another job")
	// ErrJournalVersion is returned (wrapped) for a journal of a format
	// version this package does not read.
	ErrJournalVersion = errors.New("unsupported journal version")
	// ErrJournalCorrupt is returned (wrapped) for a journal with a record
	// that is not one, anywhere but in its last line.
	ErrJournalCorrupt = errors.New("journal is damaged")
	// ErrJournalClosed is returned by Record after Close.
	ErrJournalClosed = errors.New("bulk: journal closed")
)

// journalError is an error of kind, one of the sentinels above, with its
// own message.
type journalError struct {
	msg  string
	kind error
}

func (e *journalError) Error() string { return e.msg }
func (e *journalError) Unwrap() error { return e.kind }

// JournalHeader is the first line of a journal: which job wrote it.
type JournalHeader struct {
	Journal string          `json:"journal"`
	Version int             `json:"version"`
	Kind    Kind            `json:"kind"`
	Stage   proactive.Stage `json:"stage,omitempty"`
}

// recordLen is the length of a record line: an ItemID in hex and "\n".
const recordLen = 2*len(ItemID{}) + 1

// Journal records which items the API acknowledged, so that a job run
// again sends only the rest, whatever became of the input in between.
//
// Items are identified by content (ItemID: a hash of the line), not by
// position. A rerun with the same input skips what was delivered; with an
// edited, reordered, filtered or different input it skips exactly the
// lines whose content was delivered, as many times as it was delivered,
// and sends every other line. So the failures file, fixed or not, can be
// fed back with the same journal. Identical lines are as many items: the
// journal counts them.
//
// The file is text: a JSON header line, then one record per delivered
// item, the ItemID in 32 hex digits. Records are only ever appended, and
// group-committed: Record returns at once, and the records that arrived
// within a sync interval (DefaultJournalSyncInterval, 10 ms) are written
// and fsynced together, so that a journal costs a job little. An item is
// recorded only once Alexa acknowledged it; a kill -9 (or a power loss)
// loses at most the records of the last interval, and a rerun sends those
// items again: they may reach their users twice, as items in flight at
// the kill may. Sync, Close, and the end of every job make every record
// durable. SetSyncInterval(0) makes each Record wait for its own record
// to be durable instead. A torn last line, left by a kill in mid-write, is
// cut off on open; a damaged record anywhere else makes OpenJournal fail
// with ErrJournalCorrupt.
//
// The journal is locked while open (flock on Unix, LockFileEx on
// Windows): a second job on the same file, in any process, is refused
// with ErrJournalLocked. A Journal serves one job at a time; a later job
// in the same process may reuse it and sees what the earlier one recorded.
//
// Memory: opening a journal holds 16 bytes and one bit per record (16 MB
// for a million delivered items); the input costs nothing per line. A
// Journal is safe for concurrent use.
type Journal struct {
	path    string
	header  JournalHeader
	resumed bool
	f       *os.File
	unlock  func()

	mu      sync.Mutex
	ids     []ItemID // records read at open (or at the last reload), sorted
	used    []uint64 // bit i: ids[i] matched an input line in the current job
	running bool     // a job is using the journal

	// The group commit: Record appends to pending, the writer goroutine
	// writes and fsyncs it.
	wmu      sync.Mutex
	pending  []byte // records not yet written, in hex lines
	npending int
	recorded int   // records taken by Record since open
	stale    bool  // records were taken since ids was read
	closed   bool  // Close was called
	werr     error // sticky write error
	interval atomic.Int64

	spare   []byte          // the writer's other buffer
	kick    chan struct{}   // records are pending
	full    chan struct{}   // a batch is full: write it now
	syncReq chan chan error // write and fsync now, then answer
	quit    chan struct{}   // closed by Close
	exit    chan struct{}   // closed by the writer when it ends
}

// DefaultJournalSyncInterval is how long a record may wait to be written
// and fsynced with others: the most a kill -9 loses.
const DefaultJournalSyncInterval = 10 * time.Millisecond

// OpenJournal opens the journal at path for a job of kind (and, for
// proactive events, stage; "" means development), creating it if needed,
// and locks it. It fails with ErrJournalLocked when another job has it
// open, ErrJournalMismatch when it belongs to another kind or stage,
// ErrJournalVersion when it has another format version, ErrJournalCorrupt
// when a record is damaged. Close it when the job is done.
func OpenJournal(path string, kind Kind, stage proactive.Stage) (*Journal, error) {
	switch kind {
	case KindMessage, KindDataStore:
		stage = ""
	case KindProactive:
		if stage == "" {
			stage = proactive.Development
		}
	default:
		return nil, fmt.Errorf("bulk: journal: unknown kind %q", kind)
	}
	// O_APPEND: every write lands at the end of the file as it is then,
	// never at an offset remembered from earlier.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bulk: journal: %w", err)
	}
	unlock, err := filelock.TryLock(f)
	if err != nil {
		f.Close()
		if errors.Is(err, filelock.ErrLocked) {
			return nil, &journalError{msg: fmt.Sprintf("bulk: journal %s is in use by another job (a process, this one or another, has it open)", path), kind: ErrJournalLocked}
		}
		return nil, fmt.Errorf("bulk: journal %s: locking: %w", path, err)
	}
	j := &Journal{
		path:    path,
		header:  JournalHeader{Journal: journalMagic, Version: journalVersion, Kind: kind, Stage: stage},
		f:       f,
		unlock:  unlock,
		kick:    make(chan struct{}, 1),
		full:    make(chan struct{}, 1),
		syncReq: make(chan chan error),
		quit:    make(chan struct{}),
		exit:    make(chan struct{}),
	}
	j.interval.Store(int64(DefaultJournalSyncInterval))
	if err := j.load(true); err != nil {
		unlock()
		f.Close()
		return nil, err
	}
	go j.writer()
	return j, nil
}

// load reads the header and records from the start of the file. On open
// (repair true) it cuts off a torn tail and writes the header of a new
// journal.
func (j *Journal) load(repair bool) error {
	size := int64(-1)
	if fi, err := j.f.Stat(); err == nil {
		size = fi.Size()
	}
	ids := j.ids[:0]
	sc := &journalScanner{r: bufio.NewReaderSize(io.NewSectionReader(j.f, 0, 1<<62), 32<<10)}
	var off int64 // end of the last complete, valid line
	headerOK := false
	for {
		line, complete, long, err := sc.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("bulk: journal %s: %w", j.path, err)
		}
		if !headerOK {
			if err := j.checkHeader(line, complete, long); err != nil {
				return err
			}
			if !complete {
				break // a header torn before its newline: rewritten below
			}
			headerOK = true
			off = sc.off
			// Sized from the file, up to a million records, so that a
			// large journal loads without doubling; once the header
			// says it is one.
			if n := min((size-off)/int64(recordLen), 1<<20); int64(cap(ids)) < n {
				ids = make([]ItemID, 0, n)
			}
			continue
		}
		id, ok := parseRecord(line, long)
		if !ok || !complete {
			// Only the last line may be damaged: a kill in mid-write, or
			// a torn write the file system padded. Anything after it
			// means the journal is damaged, and sending on its word
			// could skip what was never delivered.
			rest, err := sc.onlyPadding()
			if err != nil {
				return fmt.Errorf("bulk: journal %s: %w", j.path, err)
			}
			if !rest || !repair {
				return fmt.Errorf("bulk: journal %s: line %d is not a journal record (want %d hex digits, got %s): %w; start a new journal, or remove the line if you know what it was",
					j.path, sc.n, recordLen-1, preview(line, sc.size), ErrJournalCorrupt)
			}
			break
		}
		ids = append(ids, id)
		off = sc.off
	}
	slices.SortFunc(ids, func(a, b ItemID) int { return bytes.Compare(a[:], b[:]) })
	j.ids = ids
	j.used = make([]uint64, (len(ids)+63)/64)
	if !repair {
		return nil
	}
	j.resumed = headerOK
	if size >= 0 && off < size {
		if err := j.f.Truncate(off); err != nil {
			return fmt.Errorf("bulk: journal %s: %w", j.path, err)
		}
	}
	if !headerOK {
		// New (or torn before its header was whole): write the header
		// durably, and the directory entry with it.
		h, _ := json.Marshal(j.header)
		if _, err := j.f.Write(append(h, '\n')); err != nil {
			return fmt.Errorf("bulk: journal %s: %w", j.path, err)
		}
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("bulk: journal %s: %w", j.path, err)
		}
		syncDir(filepath.Dir(j.path))
	}
	return nil
}

// checkHeader checks the first line of the file.
func (j *Journal) checkHeader(line []byte, complete, long bool) error {
	if !complete {
		// Torn: a kill while the header was written. A first line that
		// is not the start of our header is some other file, which is
		// never truncated.
		h, _ := json.Marshal(j.header)
		if long || !bytes.HasPrefix(h, line) {
			return fmt.Errorf("bulk: %s is not a bulk journal", j.path)
		}
		return nil
	}
	var h JournalHeader
	if long || json.Unmarshal(bytes.TrimSpace(line), &h) != nil || h.Journal != journalMagic {
		return fmt.Errorf("bulk: %s is not a bulk journal", j.path)
	}
	switch {
	case h.Version == 1:
		return fmt.Errorf("bulk: journal %s has format version 1, written by an earlier alexa-oos that recorded line numbers: it cannot tell which items of this input were delivered (%w); finish that job with the version that wrote it, or start a new journal", j.path, ErrJournalVersion)
	case h.Version != journalVersion:
		return fmt.Errorf("bulk: journal %s has format version %d; this alexa-oos reads version %d: %w", j.path, h.Version, journalVersion, ErrJournalVersion)
	case h.Kind != j.header.Kind || h.Stage != j.header.Stage:
		return fmt.Errorf("bulk: journal %s is for bulk %s: %w", j.path, describe(h), ErrJournalMismatch)
	}
	return nil
}

// parseRecord reads one record line, allocating nothing.
func parseRecord(line []byte, long bool) (id ItemID, ok bool) {
	line = bytes.TrimSpace(line)
	if long || len(line) != 2*len(id) {
		return id, false
	}
	for _, c := range line {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return id, false
		}
	}
	if _, err := hex.Decode(id[:], line); err != nil {
		return id, false
	}
	return id, true
}

// preview quotes the start of a bad line of size bytes for an error
// message: short, whatever the line's length.
func preview(line []byte, size int64) string {
	line = bytes.TrimRight(line, "\r\n")
	const max = 24
	if len(line) > max {
		return fmt.Sprintf("%q… (%d bytes)", line[:max], size)
	}
	return fmt.Sprintf("%q", line)
}

// journalScanner reads a journal line by line, holding at most one
// buffer's worth of a line: a long line is reported by its start.
type journalScanner struct {
	r    *bufio.Reader
	n    int   // number of the line last returned, from 1
	off  int64 // offset after the line last returned
	size int64 // length of the line last returned
}

// next returns the next line, its ending included: complete is false for
// a last line without newline, long is true when the line did not fit
// the buffer (line then holds its start). The slice is valid until the
// next call.
func (s *journalScanner) next() (line []byte, complete, long bool, err error) {
	line, err = s.r.ReadSlice('\n')
	n := int64(len(line))
	if errors.Is(err, bufio.ErrBufferFull) {
		long = true
		// Keep the start for the message; skip the rest of the line.
		line = bytes.Clone(line[:min(len(line), 64)])
		for errors.Is(err, bufio.ErrBufferFull) {
			var more []byte
			more, err = s.r.ReadSlice('\n')
			n += int64(len(more))
		}
	}
	switch {
	case err == nil:
		complete = true
	case err == io.EOF:
		if n == 0 {
			return nil, false, false, io.EOF
		}
		err = nil
	default:
		return nil, false, false, err
	}
	s.n++
	s.off += n
	s.size = n
	return line, complete, long, nil
}

// onlyPadding reports whether nothing but spaces, newlines and NUL bytes
// (a torn write's padding) is left.
func (s *journalScanner) onlyPadding() (bool, error) {
	for {
		c, err := s.r.ReadByte()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		switch c {
		case 0, ' ', '\t', '\r', '\n':
		default:
			return false, nil
		}
	}
}

func describe(h JournalHeader) string {
	if h.Stage != "" {
		return fmt.Sprintf("%s (stage %s)", h.Kind, h.Stage)
	}
	return string(h.Kind)
}

// syncDir makes a new file's directory entry durable, where the system
// allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// begin starts a job on the journal: it refuses a second concurrent job,
// and rereads the file when an earlier job of this process recorded
// items, so that they are skipped too.
func (j *Journal) begin() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.wmu.Lock()
	closed, stale := j.closed, j.stale
	j.wmu.Unlock()
	switch {
	case closed:
		return ErrJournalClosed
	case j.running:
		return &journalError{msg: fmt.Sprintf("bulk: journal %s is in use by another job of this process", j.path), kind: ErrJournalLocked}
	}
	if stale {
		// What an earlier job recorded is in the file once synced.
		if err := j.Sync(); err != nil {
			return err
		}
		j.wmu.Lock()
		j.stale = false
		j.wmu.Unlock()
		if err := j.load(false); err != nil {
			return err
		}
	} else {
		clear(j.used)
	}
	j.running = true
	return nil
}

// end ends the job begun with begin.
func (j *Journal) end() {
	j.mu.Lock()
	j.running = false
	j.mu.Unlock()
}

// take reports whether the journal holds a record of id not yet matched
// by an earlier line of the current job, and marks it matched: of n
// identical lines, as many as were delivered are skipped.
func (j *Journal) take(id ItemID) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	i, _ := slices.BinarySearchFunc(j.ids, id, func(a, b ItemID) int { return bytes.Compare(a[:], b[:]) })
	for ; i < len(j.ids) && j.ids[i] == id; i++ {
		if j.used[i/64]&(1<<(i%64)) == 0 {
			j.used[i/64] |= 1 << (i % 64)
			return true
		}
	}
	return false
}

// Resumed reports whether the journal existed when opened: the job is a
// rerun.
func (j *Journal) Resumed() bool { return j.resumed }

// Loaded returns how many records the journal held when opened (or when
// a later job of this process began).
func (j *Journal) Loaded() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.ids)
}

// Recorded returns how many records were taken since the journal was
// opened. They are durable once Sync or Close returned, or once a job
// ended; else within the sync interval.
func (j *Journal) Recorded() int {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	return j.recorded
}

// Header returns the journal's header.
func (j *Journal) Header() JournalHeader { return j.header }

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

// SetSyncInterval sets how long a record may wait to be written and
// fsynced with others (DefaultJournalSyncInterval when the journal is
// opened): the most a kill -9 can lose, to be sent again by a rerun. 0
// makes every Record wait until its record is durable (concurrent calls
// still share an fsync), so that a kill loses nothing recorded, at the
// cost of an fsync in every item's time.
func (j *Journal) SetSyncInterval(d time.Duration) {
	j.interval.Store(int64(max(d, 0)))
}

// maxBatch is how many records make the writer write at once, without
// waiting for the rest of the interval.
const maxBatch = 4096

// Record records the item id as delivered. It returns at once: the record
// is written and fsynced with others within the sync interval (see
// SetSyncInterval), or at the next Sync or Close. It returns the error of
// an earlier write, if any (every later Record fails too), and
// ErrJournalClosed after Close.
func (j *Journal) Record(id ItemID) error {
	j.wmu.Lock()
	switch {
	case j.closed:
		j.wmu.Unlock()
		return ErrJournalClosed
	case j.werr != nil:
		err := j.werr
		j.wmu.Unlock()
		return err
	}
	j.pending = hex.AppendEncode(j.pending, id[:])
	j.pending = append(j.pending, '\n')
	j.npending++
	j.recorded++
	j.stale = true
	n := j.npending
	j.wmu.Unlock()
	if j.interval.Load() == 0 {
		return j.Sync()
	}
	switch n {
	case 1:
		signal(j.kick)
	case maxBatch:
		signal(j.full)
	}
	return nil
}

// signal wakes whoever waits on c, without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Sync writes and fsyncs every record taken so far, and returns the
// journal's write error, if any.
func (j *Journal) Sync() error {
	ack := make(chan error, 1)
	select {
	case j.syncReq <- ack:
		return <-ack
	case <-j.exit:
		// Closed: Close wrote everything, or failed.
		j.wmu.Lock()
		defer j.wmu.Unlock()
		if j.werr != nil {
			return j.werr
		}
		return ErrJournalClosed
	}
}

// writer is the group-commit loop: idle until a record arrives, then it
// gathers records for the sync interval (less when a batch fills or a
// Sync asks), appends them in one write and fsyncs once.
func (j *Journal) writer() {
	defer close(j.exit)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var ack chan error
		select {
		case <-j.kick:
		case ack = <-j.syncReq:
		case <-j.quit:
			j.flush()
			return
		}
		if ack == nil && j.idle() {
			// A kick left over from records a Sync or a full batch
			// already wrote.
			continue
		}
		if d := time.Duration(j.interval.Load()); ack == nil && d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-j.full:
			case ack = <-j.syncReq:
			case <-j.quit:
			}
			timer.Stop()
		}
		err := j.flush()
		if ack != nil {
			ack <- err
		}
	}
}

// idle reports whether no record is pending.
func (j *Journal) idle() bool {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	return j.npending == 0
}

// flush writes and fsyncs the pending records, and returns the
// journal's write error. Only the writer calls it.
func (j *Journal) flush() error {
	j.wmu.Lock()
	buf, n, err := j.pending, j.npending, j.werr
	j.pending, j.npending = j.spare[:0], 0
	j.wmu.Unlock()
	j.spare = buf
	if err != nil || n == 0 {
		return err
	}
	if _, err = j.f.Write(buf); err == nil {
		err = j.f.Sync()
	}
	if err == nil {
		return nil
	}
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.werr == nil {
		j.werr = fmt.Errorf("bulk: journal %s: %w", j.path, err)
	}
	return j.werr
}

// Close writes and fsyncs the pending records, unlocks and closes the
// file. It returns the journal's write error, if any.
func (j *Journal) Close() error {
	j.wmu.Lock()
	if j.closed {
		j.wmu.Unlock()
		return nil
	}
	j.closed = true
	j.wmu.Unlock()
	close(j.quit)
	<-j.exit
	j.unlock()
	err := j.f.Close()
	if j.werr != nil {
		return j.werr
	}
	return err
}
