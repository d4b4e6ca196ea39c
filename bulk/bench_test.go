package bulk_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
)

// benchLine is line i of the benchmark input: a distinct user per line
// (the emulator, discarding records, keeps no per-user state).
func benchLine(i int) string {
	return fmt.Sprintf(`{"userId": "amzn1.ask.account.B%07d", "data": {"reminderId": "amzn1.alexa.reminder.%d", "action": "update", "time": "18:30"}, "expiresAfterSeconds": 3600}`, i, i)
}

// peakHeap samples HeapInuse until stopped and returns the highest value.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
	}
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			sample()
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak.Load()
	}
}

// rawSend sends the items of input as a hand-written net/http program
// would: one reader, 16 goroutines, a token fetched once, the body built
// from the line's fields, http.NewRequest and Do; no validation, no retry,
// no journal, no results.
func rawSend(ctx context.Context, url, token string, hc *http.Client, input io.Reader, workers int) (int64, error) {
	type item struct {
		user string
		body []byte
	}
	items := make(chan item, workers)
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for it := range items {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+skillmsg.Path(it.user), bytes.NewReader(it.body))
				if err != nil {
					failed.Add(1)
					continue
				}
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					sent.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	sc := bufio.NewScanner(input)
	for sc.Scan() {
		var l struct {
			UserID              string          `json:"userId"`
			Data                json.RawMessage `json:"data"`
			ExpiresAfterSeconds int             `json:"expiresAfterSeconds"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			failed.Add(1)
			continue
		}
		body := fmt.Appendf(nil, `{"data":%s,"expiresAfterSeconds":%d}`, l.Data, l.ExpiresAfterSeconds)
		items <- item{l.UserID, body}
	}
	close(items)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return sent.Load(), fmt.Errorf("raw: %d failed", n)
	}
	return sent.Load(), sc.Err()
}

// BenchmarkBulkVsRaw sends a 10,000-item and a 100,000-item job of skill
// messages, generated as they are read, to an in-process emulator that
// keeps no records, with 16 workers and no rate limit: twice with
// bulk.SendMessages and twice with rawSend, in the same run. It reports
// both throughputs, their ratio ("bulk/raw", 1.0 = as fast as raw), and
// each sender's peak HeapInuse (emulator included), which should not grow
// with the job. "journal-items/s" is the bulk sender again with a journal
// on the temporary directory's disk: the cost of group-committed fsyncs.
func BenchmarkBulkVsRaw(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			srv := alexatest.NewServer(alexatest.Options{DiscardRecords: true})
			defer srv.Close()
			cfg := srv.Config()
			ctx := context.Background()
			token, err := lwa.NewProvider(cfg).Token(ctx, messaging.Scope)
			if err != nil {
				b.Fatal(err)
			}
			hc := alexa.NewHTTPClient(alexa.HTTPOptions{})
			var bulkTime, rawTime, journalTime time.Duration
			var bulkPeak, rawPeak uint64
			runRaw := func() {
				runtime.GC()
				stop := peakHeap()
				t0 := time.Now()
				sent, err := rawSend(ctx, srv.URL, token, hc, generate(n, benchLine), bulk.DefaultConcurrency)
				rawTime += time.Since(t0)
				rawPeak = max(rawPeak, stop())
				if err != nil || sent != int64(n) {
					b.Fatalf("raw: sent %d: %v", sent, err)
				}
			}
			runBulk := func() {
				runtime.GC()
				stop := peakHeap()
				t0 := time.Now()
				sum, err := bulk.SendMessages(ctx, cfg, generate(n, benchLine), bulk.Options{Concurrency: bulk.DefaultConcurrency})
				bulkTime += time.Since(t0)
				bulkPeak = max(bulkPeak, stop())
				if err != nil || !sum.AllDelivered() || sum.Sent != n {
					b.Fatalf("bulk: %v %v", err, sum)
				}
			}
			for b.Loop() {
				// Raw, bulk, bulk, raw: a machine whose load drifts
				// during the run favours neither.
				runRaw()
				runBulk()
				runBulk()
				runRaw()

				// The same with a journal: one fsync per group of records.
				j, err := bulk.OpenJournal(filepath.Join(b.TempDir(), "journal"), bulk.KindMessage, "")
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				sum, err := bulk.SendMessages(ctx, cfg, generate(n, benchLine), bulk.Options{Concurrency: bulk.DefaultConcurrency, Journal: j})
				journalTime += time.Since(t0)
				if cerr := j.Close(); err != nil || cerr != nil || !sum.AllDelivered() {
					b.Fatalf("bulk with journal: %v %v %v", err, cerr, sum)
				}
			}
			items := float64(n * b.N)
			bulkRate, rawRate := 2*items/bulkTime.Seconds(), 2*items/rawTime.Seconds()
			b.ReportMetric(bulkRate, "bulk-items/s")
			b.ReportMetric(rawRate, "raw-items/s")
			b.ReportMetric(bulkRate/rawRate, "bulk/raw")
			b.ReportMetric(items/journalTime.Seconds(), "journal-items/s")
			b.ReportMetric(float64(bulkPeak)/(1<<20), "bulk-peak-MiB")
			b.ReportMetric(float64(rawPeak)/(1<<20), "raw-peak-MiB")
			if got := srv.Accepted(); got != 5*n*b.N {
				b.Errorf("emulator accepted %d, want %d", got, 5*n*b.N)
			}
		})
	}
}
