package messaging_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"runtime"
	"testing"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/benchtls"
	"github.com/alexa-oos/alexa/messaging"
)

// benchData is a typical reminder-update message, encoded beforehand:
// both senders get the same bytes to send, so that the comparison is of
// what each does with them.
var benchData = json.RawMessage(`{"reminderId":"amzn1.alexa.reminder.4f9c2","action":"update","time":"18:30"}`)

// benchBody is benchData as the API takes it.
var benchBody = []byte(`{"data":` + string(benchData) + `,"expiresAfterSeconds":3600}`)

// benchSenders returns the SDK's Send and a hand-written net/http
// equivalent (the same data, a token fetched once, no validation or
// retry, its own HTTP/1.1 pool), both sending to the same TLS server
// offering h2 and http/1.1, the SDK with its default client, to the
// distinct ~220-byte userId benchtls.UserID(i).
func benchSenders(b *testing.B, srv *benchtls.Server) (sdk, raw benchtls.Variant) {
	return senders(b, srv.URL, srv.TLSConfig())
}

// senders returns benchSenders' senders for the server at url, trusted
// by tc.
func senders(b *testing.B, url string, tc *tls.Config) (sdk, raw benchtls.Variant) {
	cfg := alexa.Config{
		Credentials: alexa.Credentials{ClientID: "amzn1.application-oa2-client.bench", ClientSecret: "bench-secret"},
		Endpoint:    url,
		TokenURL:    url + benchtls.TokenPath,
		HTTPClient:  alexa.NewHTTPClient(alexa.HTTPOptions{TLSConfig: tc}),
	}
	client := messaging.NewClient(cfg)
	hc := benchtls.Client(tc, benchtls.HTTP1)
	raw = benchtls.Variant{Name: "raw", Send: func(ctx context.Context, i int) error {
		return benchtls.SendOne(ctx, hc, url, benchtls.Token, benchtls.UserID(i), benchBody)
	}}
	sdk = benchtls.Variant{Name: "sdk", Send: func(ctx context.Context, i int) error {
		_, err := client.Send(ctx, benchtls.UserID(i), &messaging.Message{Data: benchData})
		return err
	}}
	// Open the connections and fetch the token before timing.
	for _, v := range []benchtls.Variant{raw, sdk} {
		if _, err := benchtls.Burst(context.Background(), 2*benchtls.Workers, benchtls.Workers, v.Send); err != nil {
			b.Fatal(err)
		}
	}
	return sdk, raw
}

// BenchmarkSend measures each sender alone from 16 goroutines, for its
// allocations: allocs/op counts both ends of the exchange (the server
// runs in this process), so the difference between raw and sdk is the
// SDK's own. ns/op is too noisy on a shared machine to compare; see
// BenchmarkSendVsRaw.
func BenchmarkSend(b *testing.B) {
	srv := benchtls.Start(benchtls.Bare())
	defer srv.Close()
	sdk, raw := benchSenders(b, srv)
	for _, v := range []benchtls.Variant{raw, sdk} {
		b.Run(v.Name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(benchtls.Workers / runtime.GOMAXPROCS(0)) // 16 goroutines
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if err := v.Send(context.Background(), i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// Bursts of BenchmarkSendVsRaw: rounds of two bursts of burst messages.
const (
	sendRounds = 10
	sendBurst  = 500
)

// BenchmarkSendVsRaw sends bursts of 500 messages with the SDK and with
// raw net/http in turn, 16 in flight, to the same TLS server, ten rounds
// an iteration, and reports the SDK's throughput as a share of raw's
// ("sdk/raw", 1.0 = equal) and the CPU time per message of each (client
// and server, both in this process).
func BenchmarkSendVsRaw(b *testing.B) {
	srv := benchtls.Start(benchtls.Bare())
	defer srv.Close()
	sdk, raw := benchSenders(b, srv)
	compareSenders(b, sdk, raw)
}

// BenchmarkSendVsRawProcess is BenchmarkSendVsRaw against the same server
// in a process of its own (built from internal/benchtls/tlsserver), as a
// real server is: the CPU time per message is the client's alone.
func BenchmarkSendVsRawProcess(b *testing.B) {
	dir := b.TempDir()
	srv, err := benchtls.StartServerProcess("..", dir)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	tc, err := srv.TLSConfig()
	if err != nil {
		b.Fatal(err)
	}
	sdk, raw := senders(b, srv.URL, tc)
	compareSenders(b, sdk, raw)
}

// compareSenders runs sdk and raw in turn and reports their figures.
func compareSenders(b *testing.B, sdk, raw benchtls.Variant) {
	var total [2]benchtls.Run
	for b.Loop() {
		runs, err := benchtls.Compare(context.Background(), sendRounds, sendBurst, []benchtls.Variant{raw, sdk})
		if err != nil {
			b.Fatal(err)
		}
		total[0].Add(runs[0])
		total[1].Add(runs[1])
	}
	n := float64(sendRounds * sendBurst * b.N)
	b.ReportMetric(total[0].Wall.Seconds()/total[1].Wall.Seconds(), "sdk/raw")
	b.ReportMetric(n/total[1].Wall.Seconds(), "sdk-msgs/s")
	b.ReportMetric(n/total[0].Wall.Seconds(), "raw-msgs/s")
	b.ReportMetric(float64(total[1].CPU.Microseconds())/n, "sdk-cpu-µs/msg")
	b.ReportMetric(float64(total[0].CPU.Microseconds())/n, "raw-cpu-µs/msg")
}
