package alexatest_test

import (
	"context"
	"testing"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/benchtls"
	"github.com/alexa-oos/alexa/lwa"
)

// BenchmarkEmulatorVsBare serves skill messages with the emulator (no
// records kept, as bulk jobs run it) and with benchtls.Bare, a handler
// that does nothing but answer 202, each behind the same TLS server
// offering h2 and http/1.1, and sends them bursts of 500 messages from a
// raw net/http client with 16 in flight, in turn. It reports both
// request rates, the emulator's as a share of the bare handler's
// ("emulator/bare", 1.0 = the emulator costs nothing), and the CPU time
// per message of each (client and server, in this process).
//
//	go test -run '^$' -bench EmulatorVsBare -benchtime 3x ./alexatest/
func BenchmarkEmulatorVsBare(b *testing.B) {
	ctx := context.Background()
	body := []byte(`{"data":{"reminderId":"amzn1.alexa.reminder.1","action":"update","time":"18:30"},"expiresAfterSeconds":3600}`)
	variant := func(name string, srv *benchtls.Server, token string) benchtls.Variant {
		hc := benchtls.Client(srv.TLSConfig(), benchtls.HTTP1)
		v := benchtls.Variant{Name: name, Send: func(ctx context.Context, i int) error {
			return benchtls.SendOne(ctx, hc, srv.URL, token, benchtls.UserID(i), body)
		}}
		if _, err := benchtls.Burst(ctx, 2*benchtls.Workers, benchtls.Workers, v.Send); err != nil {
			b.Fatal(err)
		}
		return v
	}
	e := alexatest.New(alexatest.Options{DiscardRecords: true})
	emu := benchtls.Start(e)
	defer emu.Close()
	creds := e.Credentials()
	token, err := benchtls.FetchToken(ctx, benchtls.Client(emu.TLSConfig(), benchtls.HTTP1), emu.URL+alexatest.TokenPath, creds.ClientID, creds.ClientSecret, lwa.ScopeSkillMessaging)
	if err != nil {
		b.Fatal(err)
	}
	bare := benchtls.Start(benchtls.Bare())
	defer bare.Close()
	vs := []benchtls.Variant{variant("bare", bare, benchtls.Token), variant("emulator", emu, token)}
	const rounds, burst = 10, 500
	var total [2]benchtls.Run
	for b.Loop() {
		runs, err := benchtls.Compare(ctx, rounds, burst, vs)
		if err != nil {
			b.Fatal(err)
		}
		total[0].Add(runs[0])
		total[1].Add(runs[1])
	}
	n := float64(rounds * burst * b.N)
	b.ReportMetric(n/total[0].Wall.Seconds(), "bare-req/s")
	b.ReportMetric(n/total[1].Wall.Seconds(), "emulator-req/s")
	b.ReportMetric(total[0].Wall.Seconds()/total[1].Wall.Seconds(), "emulator/bare")
	b.ReportMetric(float64(total[0].CPU.Microseconds())/n, "bare-cpu-µs/req")
	b.ReportMetric(float64(total[1].CPU.Microseconds())/n, "emulator-cpu-µs/req")
	if got := e.Accepted(); got < int(n) {
		b.Errorf("emulator accepted %d of %d", got, int(n))
	}
}
