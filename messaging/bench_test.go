package messaging_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
)

// benchData is a typical reminder-update message.
var benchData = map[string]string{"reminderId": "amzn1.alexa.reminder.4f9c2", "action": "update", "time": "18:30"}

type sender func(ctx context.Context, user string) error

// benchSenders returns the SDK's Send and a hand-written net/http
// equivalent (pre-encoded body, token fetched once, no validation or
// retry), both aimed at the same emulator over the same kind of client.
func benchSenders(b *testing.B, srv *alexatest.Server) (sdk, raw sender) {
	cfg := srv.Config()
	client := messaging.NewClient(cfg)
	token, err := lwa.NewProvider(cfg).Token(context.Background(), messaging.Scope)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"data":{"action":"update","reminderId":"amzn1.alexa.reminder.4f9c2","time":"18:30"},"expiresAfterSeconds":3600}`)
	hc := alexa.NewHTTPClient(alexa.HTTPOptions{})
	raw = func(ctx context.Context, user string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/skillmessages/users/"+user, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	sdk = func(ctx context.Context, user string) error {
		_, err := client.Send(ctx, user, &messaging.Message{Data: benchData})
		return err
	}
	if err := sdk(context.Background(), "warmup"); err != nil {
		b.Fatal(err)
	}
	return sdk, raw
}

// BenchmarkSend measures each sender alone: ns/op is the inverse of
// throughput with 16 concurrent senders, allocs/op counts both sides of the
// in-process exchange.
func BenchmarkSend(b *testing.B) {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	sdk, raw := benchSenders(b, srv)
	for _, bc := range []struct {
		name string
		send sender
	}{{"raw", raw}, {"sdk", sdk}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := bc.send(context.Background(), "amzn1.ask.account.BENCH"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSendVsRaw interleaves SDK and raw sends on the same workers
// against the same emulator, so both see the same machine, and reports the
// SDK's throughput as a share of raw net/http's ("sdk/raw", 1.0 = equal).
func BenchmarkSendVsRaw(b *testing.B) {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	sdk, raw := benchSenders(b, srv)
	var rawNs, sdkNs atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for i := 0; pb.Next(); i++ {
			// Alternate which goes first so neither always warms the other.
			first, second, fNs, sNs := raw, sdk, &rawNs, &sdkNs
			if i%2 == 1 {
				first, second, fNs, sNs = sdk, raw, &sdkNs, &rawNs
			}
			t0 := time.Now()
			if err := first(ctx, "amzn1.ask.account.BENCH"); err != nil {
				b.Error(err)
				return
			}
			t1 := time.Now()
			if err := second(ctx, "amzn1.ask.account.BENCH"); err != nil {
				b.Error(err)
				return
			}
			fNs.Add(int64(t1.Sub(t0)))
			sNs.Add(int64(time.Since(t1)))
		}
	})
	if s := sdkNs.Load(); s > 0 {
		b.ReportMetric(float64(rawNs.Load())/float64(s), "sdk/raw")
	}
}
