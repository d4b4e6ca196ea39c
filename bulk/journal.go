package bulk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/alexa-oos/alexa/proactive"
)

// JournalMagic names the format in a journal's header line.
const JournalMagic = "alexa-oos bulk journal"

// ErrJournalMismatch is returned (wrapped) when a journal was written by a
// job of another kind or stage.
var ErrJournalMismatch = errors.New("journal belongs to another kind of job")

// ErrJournalClosed is returned by Record after Close.
var ErrJournalClosed = errors.New("bulk: journal closed")

// JournalHeader is the first line of a journal: which job wrote it.
type JournalHeader struct {
	Journal string          `json:"journal"`
	Version int             `json:"version"`
	Kind    Kind            `json:"kind"`
	Stage   proactive.Stage `json:"stage,omitempty"`
}

// Journal records which input lines were acknowledged by the API, so that
// a job run again with the same input sends only the rest.
//
// The file is text: a JSON header line, then the number of each
// acknowledged line, one per line. Records are group-committed: Record
// blocks until its record and whichever others arrived meanwhile are
// written and fsynced together, one fsync per batch. A torn last line,
// left by a kill in mid-write, is ignored and cut off on open.
//
// In memory the journal keeps one bit per line number, so resuming a job
// of millions of lines costs a few hundred kilobytes. A Journal is safe for
// concurrent use; one file must not be used by two jobs at once.
type Journal struct {
	path    string
	header  JournalHeader
	resumed bool
	loaded  int

	bmu  sync.RWMutex
	done []uint64 // bit n set: line n acknowledged

	f     *os.File
	reqs  chan journalReq
	cmu   sync.RWMutex // guards closed against sends on reqs
	close bool
	exit  chan struct{}
	err   error // sticky write error, owned by the writer goroutine
}

type journalReq struct {
	line int
	ack  chan error
}

// OpenJournal opens the journal at path for a job of kind (and, for
// proactive events, stage; "" means development), creating it if needed.
// An existing journal of another kind or stage is refused with
// ErrJournalMismatch. Close it when the job is done.
func OpenJournal(path string, kind Kind, stage proactive.Stage) (*Journal, error) {
	switch kind {
	case KindMessage:
		stage = ""
	case KindProactive:
		if stage == "" {
			stage = proactive.Development
		}
	default:
		return nil, fmt.Errorf("bulk: journal: unknown kind %q", kind)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bulk: journal: %w", err)
	}
	j := &Journal{
		path:   path,
		header: JournalHeader{Journal: JournalMagic, Version: 1, Kind: kind, Stage: stage},
		f:      f,
		reqs:   make(chan journalReq, 1024),
		exit:   make(chan struct{}),
	}
	if err := j.load(); err != nil {
		f.Close()
		return nil, err
	}
	go j.writer()
	return j, nil
}

// load reads the existing records, cuts off a torn tail, and writes the
// header of a new journal.
func (j *Journal) load() error {
	br := bufio.NewReaderSize(j.f, 64<<10)
	var off int64 // end of the last complete, valid line
	first := true
	lineNo := 0
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("bulk: journal %s: line %d is not a journal record", j.path, lineNo+1)
		}
		complete := err == nil
		if err != nil && err != io.EOF {
			return fmt.Errorf("bulk: journal %s: %w", j.path, err)
		}
		if len(line) == 0 {
			break
		}
		lineNo++
		if !complete {
			// Torn: a kill in mid-write; cut off below. A first line that
			// is not the start of our header is some other file, which
			// is never truncated.
			if first {
				h, _ := json.Marshal(j.header)
				if !bytes.HasPrefix(h, line) {
					return fmt.Errorf("bulk: %s is not a bulk journal", j.path)
				}
			}
			break
		}
		body := bytes.TrimSpace(line)
		if first {
			var h JournalHeader
			if json.Unmarshal(body, &h) != nil || h.Journal != JournalMagic {
				return fmt.Errorf("bulk: %s is not a bulk journal", j.path)
			}
			if h.Version != 1 {
				return fmt.Errorf("bulk: journal %s: unsupported version %d", j.path, h.Version)
			}
			if h.Kind != j.header.Kind || h.Stage != j.header.Stage {
				return fmt.Errorf("bulk: journal %s is for bulk %s: %w", j.path, describe(h), ErrJournalMismatch)
			}
			first = false
			j.resumed = true
		} else {
			n, perr := strconv.Atoi(string(body))
			if perr != nil || n <= 0 {
				// Only the last line may be damaged (a torn write
				// padded by the file system); anything after it means
				// the journal is corrupt.
				rest, _ := io.ReadAll(br)
				if len(bytes.TrimSpace(rest)) > 0 {
					return fmt.Errorf("bulk: journal %s: line %d is not a journal record: %q", j.path, lineNo, body)
				}
				break
			}
			if !j.set(n) {
				j.loaded++
			}
		}
		off += int64(len(line))
	}
	if err := j.f.Truncate(off); err != nil {
		return fmt.Errorf("bulk: journal %s: %w", j.path, err)
	}
	if _, err := j.f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("bulk: journal %s: %w", j.path, err)
	}
	if first {
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

// set marks line done and reports whether it already was.
func (j *Journal) set(line int) bool {
	j.bmu.Lock()
	defer j.bmu.Unlock()
	w := line / 64
	if w >= len(j.done) {
		j.done = append(j.done, make([]uint64, w+1-len(j.done))...)
	}
	old := j.done[w]&(1<<(line%64)) != 0
	j.done[w] |= 1 << (line % 64)
	return old
}

// Done reports whether line was acknowledged, in this run or an earlier one.
func (j *Journal) Done(line int) bool {
	j.bmu.RLock()
	defer j.bmu.RUnlock()
	w := line / 64
	return line > 0 && w < len(j.done) && j.done[w]&(1<<(line%64)) != 0
}

// DoneCount returns how many distinct lines are recorded as acknowledged.
func (j *Journal) DoneCount() int {
	j.bmu.RLock()
	defer j.bmu.RUnlock()
	n := 0
	for _, w := range j.done {
		n += bits.OnesCount64(w)
	}
	return n
}

// Resumed reports whether the journal existed when opened: the job is a
// rerun.
func (j *Journal) Resumed() bool { return j.resumed }

// Loaded returns how many lines the journal held when opened.
func (j *Journal) Loaded() int { return j.loaded }

// Header returns the journal's header.
func (j *Journal) Header() JournalHeader { return j.header }

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

var ackPool = sync.Pool{New: func() any { return make(chan error, 1) }}

// Record durably records line as acknowledged: it returns once the record
// is written and fsynced. Concurrent calls share fsyncs. After a write
// error every Record fails.
func (j *Journal) Record(line int) error {
	ack := ackPool.Get().(chan error)
	j.cmu.RLock()
	if j.close {
		j.cmu.RUnlock()
		ackPool.Put(ack)
		return ErrJournalClosed
	}
	j.reqs <- journalReq{line: line, ack: ack}
	j.cmu.RUnlock()
	err := <-ack
	ackPool.Put(ack)
	return err
}

// maxBatch bounds the records of one write.
const maxBatch = 4096

// writer is the group-commit loop: it takes whatever records are waiting,
// writes them in one write, fsyncs once, and then acknowledges them all.
func (j *Journal) writer() {
	defer close(j.exit)
	batch := make([]journalReq, 0, 64)
	buf := make([]byte, 0, 4096)
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
				buf = strconv.AppendInt(buf, int64(r.line), 10)
				buf = append(buf, '\n')
			}
			if _, err := j.f.Write(buf); err != nil {
				j.err = fmt.Errorf("bulk: journal %s: %w", j.path, err)
			} else if err := j.f.Sync(); err != nil {
				j.err = fmt.Errorf("bulk: journal %s: %w", j.path, err)
			}
		}
		for _, r := range batch {
			if j.err == nil {
				j.set(r.line)
			}
			r.ack <- j.err
		}
	}
}

// Close waits for pending records and closes the file.
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
	err := j.f.Close()
	if j.err != nil {
		return j.err
	}
	return err
}
