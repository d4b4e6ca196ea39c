package cli

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexa-oos/alexa/bulk"
	"github.com/schollz/progressbar/v3"
)

// EnvProgressInterval sets the period of the plain progress line that a
// bulk job prints when stderr is not a terminal: a Go duration such as
// "1s". Default DefaultProgressInterval.
const EnvProgressInterval = "ALEXA_OOS_PROGRESS_INTERVAL"

// DefaultProgressInterval is the period of the plain progress line.
const DefaultProgressInterval = 5 * time.Second

// barRefresh is how often the terminal progress bar is redrawn.
const barRefresh = 200 * time.Millisecond

// progress shows how a bulk job advances on stderr: a progress bar when
// stderr is a terminal, else a plain line every interval. It also prints
// the per-line reports, so that they do not garble the bar. How far the
// job is, and its ETA, come from the items done and the input file's
// size: the lines read so far give the bytes per line, hence how many
// lines the file holds. The items are not counted beforehand, which would
// read the file twice; nor is the job as far as its reading, which runs
// ahead of the sending by its buffers.
type progress struct {
	w        io.Writer
	size     int64 // bytes in the input file; 0 when unknown
	interval time.Duration

	mu  sync.Mutex               // serializes writes to w and every use of bar
	bar *progressbar.ProgressBar // nil when stderr is not a terminal

	done, delivered, failed, skipped atomic.Int64
	read, lines                      atomic.Int64 // bytes and lines of input read

	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// progressInterval reads EnvProgressInterval with getenv.
func progressInterval(getenv func(string) string) (time.Duration, error) {
	s := getenv(EnvProgressInterval)
	if s == "" {
		return DefaultProgressInterval, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usagef("%s: must be a positive duration such as 5s (got %q)", EnvProgressInterval, s)
	}
	return d, nil
}

// startProgress starts showing progress on s.ErrOut; size is the input
// file's, 0 when unknown (standard input). Call close when the job is done.
func startProgress(s *IOStreams, size int64, interval time.Duration) *progress {
	p := &progress{w: s.ErrOut, size: size, interval: interval, stop: make(chan struct{}), stopped: make(chan struct{})}
	if s.IsStderrTerminal() {
		max := size
		if max <= 0 {
			max = -1 // a spinner: count and rate, no ETA
		}
		// The bar runs over the bytes read; the items done, their rate
		// and failures are in its description.
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(s.ErrOut),
			progressbar.OptionSetDescription("sending"),
			progressbar.OptionSetPredictTime(size > 0),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(barRefresh/2),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionFullWidth(),
			progressbar.OptionClearOnFinish(),
		)
		p.mu.Lock()
		p.bar.RenderBlank()
		p.mu.Unlock()
	}
	go p.loop()
	return p
}

// reading returns r counting the bytes and lines read from it into the
// progress.
func (p *progress) reading(r io.Reader) io.Reader {
	return &countingReader{r: r, bytes: &p.read, lines: &p.lines}
}

// countingReader counts the bytes and newlines read from r.
type countingReader struct {
	r            io.Reader
	bytes, lines *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.bytes.Add(int64(n))
	c.lines.Add(int64(bytes.Count(b[:n], []byte{'\n'})))
	return n, err
}

// position returns how many bytes of the input the items done stand for:
// the items done times the bytes per line read so far, at most the size.
func (p *progress) position() int64 {
	read, lines, done := p.read.Load(), p.lines.Load(), p.done.Load()
	if lines == 0 {
		return 0
	}
	return min(done*read/lines, p.size)
}

// result counts r.
func (p *progress) result(r bulk.Result) {
	p.done.Add(1)
	switch {
	case r.Status == bulk.Skipped:
		p.skipped.Add(1)
		p.delivered.Add(1)
	case r.Status.Delivered():
		p.delivered.Add(1)
	default:
		p.failed.Add(1)
	}
}

// println writes one line on stderr, above the bar.
func (p *progress) println(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintln(p.w, line)
	// The bar comes back at its next refresh.
}

func (p *progress) loop() {
	defer close(p.stopped)
	every := p.interval
	if p.bar != nil {
		every = barRefresh
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last, lastAt := int64(0), time.Now()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			// The rate counts the items that cost a request: skipped
			// ones, read from the journal, are not.
			sent := p.done.Load() - p.skipped.Load()
			rate := float64(sent-last) / now.Sub(lastAt).Seconds()
			last, lastAt = sent, now
			if p.bar != nil {
				p.refreshBar(rate)
				continue
			}
			p.println(p.line(rate))
		}
	}
}

// line is the plain progress line: with a file, how much of it is done
// and, from the items' rate, the ETA.
func (p *progress) line(rate float64) string {
	done, delivered, failed := p.done.Load(), p.delivered.Load(), p.failed.Load()
	s := fmt.Sprintf("alexa-oos: %d done (%d delivered, %d failed), %.0f/s", done, delivered, failed, rate)
	if p.size <= 0 || p.lines.Load() == 0 {
		return s
	}
	pos := p.position()
	s += fmt.Sprintf(", %d%% done", pos*100/p.size)
	if left := p.size - pos; left > 0 && rate > 0 {
		items := float64(left) * float64(p.lines.Load()) / float64(p.read.Load())
		s += ", ETA " + time.Duration(items/rate*float64(time.Second)).Round(time.Second).String()
	}
	return s
}

// refreshBar redraws the bar with the bytes read and the current counts.
func (p *progress) refreshBar(rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Describe(fmt.Sprintf("sending: %d done, %.0f/s, %d failed", p.done.Load(), rate, p.failed.Load()))
	if p.size > 0 {
		p.bar.Set64(p.position())
	} else {
		p.bar.Set64(p.done.Load())
	}
}

// close stops the display and clears the bar.
func (p *progress) close() {
	p.once.Do(func() {
		close(p.stop)
		<-p.stopped
		if p.bar != nil {
			p.mu.Lock()
			p.bar.Clear()
			p.bar.Exit()
			p.mu.Unlock()
		}
	})
}
