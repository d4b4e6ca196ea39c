package bulk_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/internal/benchtls"
)

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

// benchConfig is a configuration for srv with the default HTTP client
// trusting its certificate.
func benchConfig(srv *benchtls.Server) alexa.Config {
	return alexa.Config{
		Credentials: alexa.Credentials{ClientID: "amzn1.application-oa2-client.bench", ClientSecret: "bench-secret"},
		Endpoint:    srv.URL,
		TokenURL:    srv.URL + benchtls.TokenPath,
		HTTPClient:  alexa.NewHTTPClient(alexa.HTTPOptions{TLSConfig: srv.TLSConfig()}),
	}
}

// BenchmarkBulkVsRaw sends a job of skill messages (benchtls.Line: ~220
// byte userIds, generated as they are read) to a TLS server offering h2
// and http/1.1, with 16 workers and no rate limit: with
// bulk.SendMessages, with benchtls.RawSend (a hand-written net/http
// sender), and with bulk.SendMessages and a journal on the temporary
// directory's disk, in turn, the order rotated every iteration. It reports
// the throughput of each, bulk's and the journal's as a share of the one
// before ("bulk/raw", "journal/bulk"; 1.0 = as fast), the CPU time per
// message (client and server, in this process), and each sender's peak
// HeapInuse (server included), which must not grow with the job.
func BenchmarkBulkVsRaw(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			srv := benchtls.Start(benchtls.Bare())
			defer srv.Close()
			cfg := benchConfig(srv)
			ctx := context.Background()
			hc := benchtls.Client(srv.TLSConfig(), benchtls.HTTP1)
			dir := b.TempDir()
			var bulkRun, rawRun, journalRun benchtls.Run
			var bulkPeak, rawPeak uint64
			measure := func(total *benchtls.Run, peak *uint64, f func() error) {
				runtime.GC()
				stop := peakHeap()
				r, err := benchtls.Timed(f)
				if peak != nil {
					*peak = max(*peak, stop())
				} else {
					stop()
				}
				if err != nil {
					b.Fatal(err)
				}
				total.Add(r)
			}
			runRaw := func() {
				measure(&rawRun, &rawPeak, func() error {
					sent, err := benchtls.RawSend(ctx, hc, srv.URL, benchtls.Token, benchtls.Input(n), benchtls.Workers)
					if err == nil && sent != int64(n) {
						err = fmt.Errorf("raw: sent %d of %d", sent, n)
					}
					return err
				})
			}
			runBulk := func() {
				measure(&bulkRun, &bulkPeak, func() error {
					sum, err := bulk.SendMessages(ctx, cfg, benchtls.Input(n), bulk.Options{Concurrency: benchtls.Workers})
					if err == nil && (!sum.AllDelivered() || sum.Sent != n) {
						err = fmt.Errorf("bulk: %v", sum)
					}
					return err
				})
			}
			round := 0
			runJournal := func() {
				j, err := bulk.OpenJournal(filepath.Join(dir, fmt.Sprintf("journal-%d", round)), bulk.KindMessage, "")
				if err != nil {
					b.Fatal(err)
				}
				measure(&journalRun, nil, func() error {
					sum, err := bulk.SendMessages(ctx, cfg, benchtls.Input(n), bulk.Options{Concurrency: benchtls.Workers, Journal: j})
					if cerr := j.Close(); err == nil {
						err = cerr
					}
					if err == nil && (!sum.AllDelivered() || sum.Sent != n) {
						err = fmt.Errorf("bulk with journal: %v", sum)
					}
					return err
				})
			}
			runs := []func(){runRaw, runBulk, runJournal}
			for b.Loop() {
				for k := range runs {
					runs[(round+k)%len(runs)]()
				}
				round++
			}
			items := float64(n * b.N)
			b.ReportMetric(items/bulkRun.Wall.Seconds(), "bulk-items/s")
			b.ReportMetric(items/rawRun.Wall.Seconds(), "raw-items/s")
			b.ReportMetric(items/journalRun.Wall.Seconds(), "journal-items/s")
			b.ReportMetric(rawRun.Wall.Seconds()/bulkRun.Wall.Seconds(), "bulk/raw")
			b.ReportMetric(bulkRun.Wall.Seconds()/journalRun.Wall.Seconds(), "journal/bulk")
			b.ReportMetric(float64(bulkRun.CPU.Microseconds())/items, "bulk-cpu-µs/item")
			b.ReportMetric(float64(rawRun.CPU.Microseconds())/items, "raw-cpu-µs/item")
			b.ReportMetric(float64(journalRun.CPU.Microseconds())/items, "journal-cpu-µs/item")
			b.ReportMetric(float64(bulkPeak)/(1<<20), "bulk-peak-MiB")
			b.ReportMetric(float64(rawPeak)/(1<<20), "raw-peak-MiB")
		})
	}
}

// BenchmarkSendMessages measures bulk.SendMessages alone, per item, for
// its allocations (client and server, in this process).
func BenchmarkSendMessages(b *testing.B) {
	srv := benchtls.Start(benchtls.Bare())
	defer srv.Close()
	cfg := benchConfig(srv)
	b.ReportAllocs()
	sum, err := bulk.SendMessages(context.Background(), cfg, benchtls.Input(b.N), bulk.Options{Concurrency: benchtls.Workers})
	if err != nil || sum.Sent != b.N {
		b.Fatalf("%v %v", sum, err)
	}
}
