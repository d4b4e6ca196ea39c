package benchtls_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/alexa-oos/alexa/internal/benchtls"
)

// burst is the number of messages of one timed run.
const burst = 1000

// BenchmarkProtocols compares the ways net/http can reach a TLS server
// offering h2 and http/1.1 (HTTP/1.1 with a pool of 16 keep-alive
// connections, HTTP/2 on one connection, HTTP/2 on four), each sending
// bursts of skill messages to distinct ~220-byte userIds from 16
// goroutines, one burst of each in turn per iteration, the order rotated.
// It reports each one's messages per second, its ratio to HTTP/1.1's, and
// the CPU time per message of this process (client and server both).
func BenchmarkProtocols(b *testing.B) {
	srv := benchtls.Start(benchtls.Bare())
	defer srv.Close()
	protos := []benchtls.Proto{benchtls.HTTP1, benchtls.HTTP2, benchtls.HTTP2x4}
	body := []byte(`{"data":{"reminderId":"amzn1.alexa.reminder.1","action":"update","time":"18:30"},"expiresAfterSeconds":3600}`)
	ctx := context.Background()
	var runs []func() benchtls.Run
	for _, p := range protos {
		hc := benchtls.Client(srv.TLSConfig(), p)
		send := func(ctx context.Context, i int) error {
			return benchtls.SendOne(ctx, hc, srv.URL, benchtls.Token, benchtls.UserID(i), body)
		}
		if _, err := benchtls.Burst(ctx, 100, benchtls.Workers, send); err != nil { // connect, warm up
			b.Fatal(err)
		}
		runs = append(runs, func() benchtls.Run {
			r, err := benchtls.Timed(func() error {
				_, err := benchtls.Burst(ctx, burst, benchtls.Workers, send)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			return r
		})
	}
	total := make([]benchtls.Run, len(runs))
	round := 0
	for b.Loop() {
		for k := range runs {
			i := (round + k) % len(runs)
			total[i].Add(runs[i]())
		}
		round++
	}
	n := float64(burst * b.N)
	for i, p := range protos {
		b.ReportMetric(n/total[i].Wall.Seconds(), p.String()+"-msgs/s")
		b.ReportMetric(float64(total[i].CPU.Microseconds())/n, p.String()+"-cpu-µs/msg")
		if i > 0 {
			b.ReportMetric(total[0].Wall.Seconds()/total[i].Wall.Seconds(), fmt.Sprintf("%s/http1", p))
		}
	}
}
