package cli

import (
	"bufio"
	"errors"
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
// the per-line reports, so that they do not garble the bar.
type progress struct {
	w        io.Writer
	total    int64 // items in the input; 0 when unknown
	interval time.Duration

	mu  sync.Mutex               // serializes writes to w and every use of bar
	bar *progressbar.ProgressBar // nil when stderr is not a terminal

	done, delivered, failed, skipped atomic.Int64

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

// startProgress starts showing progress on s.ErrOut; total is the number
// of items, 0 when unknown. Call close when the job is done.
func startProgress(s *IOStreams, total int64, interval time.Duration) *progress {
	p := &progress{w: s.ErrOut, total: total, interval: interval, stop: make(chan struct{}), stopped: make(chan struct{})}
	if s.IsStderrTerminal() {
		max := total
		if max <= 0 {
			max = -1 // a spinner: count and rate, no ETA
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(s.ErrOut),
			progressbar.OptionSetDescription("sending"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("items"),
			progressbar.OptionSetPredictTime(total > 0),
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
			if p.bar != nil {
				p.refreshBar()
				continue
			}
			// The rate counts the items that cost a request: skipped
			// ones, read from the journal, are not.
			sent := p.done.Load() - p.skipped.Load()
			rate := float64(sent-last) / now.Sub(lastAt).Seconds()
			last, lastAt = sent, now
			p.println(p.line(rate))
		}
	}
}

// line is the plain progress line.
func (p *progress) line(rate float64) string {
	done, delivered, failed := p.done.Load(), p.delivered.Load(), p.failed.Load()
	if p.total <= 0 {
		return fmt.Sprintf("alexa-oos: %d done (%d delivered, %d failed), %.0f/s", done, delivered, failed, rate)
	}
	s := fmt.Sprintf("alexa-oos: %d/%d done (%d delivered, %d failed), %.0f/s", done, p.total, delivered, failed, rate)
	if left := p.total - done; left > 0 && rate > 0 {
		s += ", ETA " + time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second).String()
	}
	return s
}

// refreshBar redraws the bar with the current counts.
func (p *progress) refreshBar() {
	p.mu.Lock()
	defer p.mu.Unlock()
	done := p.done.Load()
	if p.total > 0 {
		done = min(done, p.total)
	}
	p.bar.Describe(fmt.Sprintf("sending (%d failed)", p.failed.Load()))
	p.bar.Set64(done)
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

// countItems counts the non-blank lines of r, as the bulk package numbers
// its items, in one streaming pass.
func countItems(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var n int64
	content := false // the current line has a non-space byte
	first := true
	for {
		chunk, err := br.ReadSlice('\n')
		if first {
			// A byte order mark alone does not make a line an item.
			if len(chunk) >= 3 && chunk[0] == 0xef && chunk[1] == 0xbb && chunk[2] == 0xbf {
				chunk = chunk[3:]
			}
			first = false
		}
		for _, c := range chunk {
			switch c {
			case ' ', '\t', '\r', '\n', '\v', '\f':
			default:
				content = true
			}
		}
		switch {
		case err == nil:
			if content {
				n++
			}
			content = false
		case errors.Is(err, bufio.ErrBufferFull):
			// A long line: keep scanning it.
		case err == io.EOF:
			if content {
				n++
			}
			return n, nil
		default:
			return n, err
		}
	}
}
