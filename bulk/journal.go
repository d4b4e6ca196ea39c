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
// group-committed: Record blocks until its record and whichever others
// arrived meanwhile are written and fsynced together. A torn last line,
// left by a kill in mid-write, is cut off on open; a damaged record
// anywhere else makes OpenJournal fail with ErrJournalCorrupt.
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

	mu       sync.Mutex
	ids      []ItemID // records read at open (or at the last reload), sorted
	used     []uint64 // bit i: ids[i] matched an input line in the current job
	running  bool     // a job is using the journal
	stale    bool     // records were written since ids was read
	recorded int

	reqs  chan journalReq
	cmu   sync.RWMutex // guards close against sends on reqs
	close bool
	exit  chan struct{}
	err   error // sticky write error, owned by the writer goroutine
}

type journalReq struct {
	id  ItemID
	ack chan error
}

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
	unlock, err := lockFile(f)
	if err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, &journalError{msg: fmt.Sprintf("bulk: journal %s is in use by another job (a process, this one or another, has it open)", path), kind: ErrJournalLocked}
		}
		return nil, fmt.Errorf("bulk: journal %s: locking: %w", path, err)
	}
	j := &Journal{
		path:   path,
		header: JournalHeader{Journal: journalMagic, Version: journalVersion, Kind: kind, Stage: stage},
		f:      f,
		unlock: unlock,
		reqs:   make(chan journalReq, 1024),
		exit:   make(chan struct{}),
	}
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
	j.stale = false
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
	j.cmu.RLock()
	closed := j.close
	j.cmu.RUnlock()
	switch {
	case closed:
		return ErrJournalClosed
	case j.running:
		return &journalError{msg: fmt.Sprintf("bulk: journal %s is in use by another job of this process", j.path), kind: ErrJournalLocked}
	}
	if j.stale {
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

// Recorded returns how many records were written since the journal was
// opened.
func (j *Journal) Recorded() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.recorded
}

// Header returns the journal's header.
func (j *Journal) Header() JournalHeader { return j.header }

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

var ackPool = sync.Pool{New: func() any { return make(chan error, 1) }}

// Record durably records the item id as delivered: it returns once the
// record is written and fsynced. Concurrent calls share fsyncs. After a
// write error every Record fails.
func (j *Journal) Record(id ItemID) error {
	ack := ackPool.Get().(chan error)
	j.cmu.RLock()
	if j.close {
		j.cmu.RUnlock()
		ackPool.Put(ack)
		return ErrJournalClosed
	}
	j.reqs <- journalReq{id: id, ack: ack}
	j.cmu.RUnlock()
	err := <-ack
	ackPool.Put(ack)
	return err
}

// maxBatch bounds the records of one write.
const maxBatch = 4096

// writer is the group-commit loop: it takes whatever records are waiting,
// appends them in one write, fsyncs once, and then acknowledges them all.
func (j *Journal) writer() {
	defer close(j.exit)
	batch := make([]journalReq, 0, 64)
	buf := make([]byte, 0, 64*recordLen)
	for r := range j.reqs {
		batch = append(batch[:0], r)
	more:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-j.reqs:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		if j.err == nil {
			buf = buf[:0]
			for _, r := range batch {
				buf = hex.AppendEncode(buf, r.id[:])
				buf = append(buf, '\n')
			}
			if _, err := j.f.Write(buf); err != nil {
				j.err = fmt.Errorf("bulk: journal %s: %w", j.path, err)
			} else if err := j.f.Sync(); err != nil {
				j.err = fmt.Errorf("bulk: journal %s: %w", j.path, err)
			} else {
				j.mu.Lock()
				j.recorded += len(batch)
				j.stale = true
				j.mu.Unlock()
			}
		}
		for _, r := range batch {
			r.ack <- j.err
		}
	}
}

// Close waits for pending records, unlocks and closes the file.
func (j *Journal) Close() error {
	j.cmu.Lock()
	if j.close {
		j.cmu.Unlock()
		return nil
	}
	j.close = true
	close(j.reqs)
	j.cmu.Unlock()
	<-j.exit
	j.unlock()
	err := j.f.Close()
	if j.err != nil {
		return j.err
	}
	return err
}
