package main

import (
	"bytes"
	"flag"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/benchtls"
)

var (
	e2eLines   = flag.Int("e2e.lines", 20_000, "lines of the end-to-end benchmarks' input")
	e2eHandler = flag.String("e2e.handler", "bare", "the end-to-end server: bare (benchtls.Bare) or emulator (alexatest)")
	e2eOnly    = flag.String("e2e.only", "", "comma-separated senders to run (default: all)")
)

// buildTools builds the raw sender and the TLS server into dir.
func buildTools(b *testing.B, dir string) (rawsend, server string) {
	rawsend, err := benchtls.Build(repoRoot, dir, "./internal/benchtls/rawsend")
	if err == nil {
		server, err = benchtls.Build(repoRoot, dir, "./internal/benchtls/tlsserver")
	}
	if err != nil {
		b.Fatal(err)
	}
	return rawsend, server
}

// e2eRun is what one process run cost.
type e2eRun struct {
	wall, cpu, server time.Duration
	rss               int64 // peak resident set, bytes
}

func (r *e2eRun) add(o e2eRun) {
	r.wall += o.wall
	r.cpu += o.cpu
	r.server += o.server
	r.rss = max(r.rss, o.rss)
}

// runProcess runs a sender process to its end and measures it: wall
// time, its own CPU time and peak RSS, and the server's CPU time meanwhile.
func runProcess(b *testing.B, srv *benchtls.Process, env []string, name string, args ...string) e2eRun {
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	s0 := srv.CPU()
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil {
		b.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return e2eRun{
		wall:   wall,
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		server: srv.CPU() - s0,
		rss:    ru.Maxrss << 10, // KiB on Linux
	}
}

// BenchmarkE2E times whole processes sending the skill messages of a
// -e2e.lines input file (benchtls.Line: ~220-byte userIds), 16 in flight,
// to a TLS server offering h2 and http/1.1 in a process of its own: the
// raw sender (benchtls.RawSend as a program, HTTP/1.1 or HTTP/2),
// "alexa-oos bulk message --input F" (default, with --http2, and with
// --journal), each in turn, the order rotated every iteration. It reports
// each sender's messages per second, its ratio to raw HTTP/1.1's
// ("cli/raw"; "journal/cli" against the same job without a journal), the
// CPU time per message of the sender and of the server, and the sender's
// peak RSS.
//
//	go test -run XXX -bench E2E -benchtime 3x ./cmd/alexa-oos
//	go test -run XXX -bench E2E -benchtime 1x ./cmd/alexa-oos -args -e2e.lines=1000000 -e2e.only=cli
func BenchmarkE2E(b *testing.B) {
	dir := b.TempDir()
	rawsend, serverBin := buildTools(b, dir)
	args := []string{"-handler", *e2eHandler}
	srv, err := benchtls.StartProcess(serverBin, dir, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	n := *e2eLines
	input := filepath.Join(dir, "input.jsonl")
	if err := benchtls.WriteInput(input, n); err != nil {
		b.Fatal(err)
	}
	env := cleanEnv(map[string]string{
		"SSL_CERT_FILE":       srv.CertFile,
		"ALEXA_CLIENT_ID":     alexatest.DefaultClientID,
		"ALEXA_CLIENT_SECRET": alexatest.DefaultClientSecret,
		"ALEXA_API_ENDPOINT":  srv.URL,
		"ALEXA_TOKEN_URL":     srv.URL + benchtls.TokenPath,
	})
	journals := 0
	type sender struct {
		name string
		run  func() e2eRun
	}
	cli := func(extra ...string) func() e2eRun {
		return func() e2eRun {
			a := append([]string{"bulk", "message", "--input", input}, extra...)
			if len(extra) > 0 && extra[0] == "--journal" {
				journals++
				a = append(a, filepath.Join(dir, fmt.Sprintf("journal-%d", journals)))
			}
			return runProcess(b, srv, env, binary, a...)
		}
	}
	raw := func(proto string) func() e2eRun {
		return func() e2eRun {
			return runProcess(b, srv, env, rawsend, "-url", srv.URL, "-input", input, "-proto", proto)
		}
	}
	senders := []sender{
		{"raw", raw("http1")},
		{"cli", cli()},
		{"journal", cli("--journal")},
		{"cli-http2", cli("--http2")},
		{"raw-http2", raw("http2")},
	}
	if *e2eOnly != "" {
		var keep []sender
		for _, s := range senders {
			for _, o := range strings.Split(*e2eOnly, ",") {
				if s.name == o {
					keep = append(keep, s)
				}
			}
		}
		senders = keep
	}
	total := make([]e2eRun, len(senders))
	round := 0
	for b.Loop() {
		for k := range senders {
			i := (round + k) % len(senders)
			total[i].add(senders[i].run())
		}
		round++
	}
	msgs := float64(n * b.N)
	by := map[string]e2eRun{}
	for i, s := range senders {
		t := total[i]
		by[s.name] = t
		b.ReportMetric(msgs/t.wall.Seconds(), s.name+"-msgs/s")
		b.ReportMetric(float64(t.cpu.Nanoseconds())/msgs/1e3, s.name+"-cpu-µs/msg")
		b.ReportMetric(float64(t.server.Nanoseconds())/msgs/1e3, s.name+"-server-µs/msg")
		b.ReportMetric(float64(t.rss)/(1<<20), s.name+"-rss-MiB")
	}
	ratio := func(name, of, unit string) {
		if x, ok := by[name]; ok {
			if y, ok := by[of]; ok {
				b.ReportMetric(y.wall.Seconds()/x.wall.Seconds(), unit)
			}
		}
	}
	ratio("cli", "raw", "cli/raw")
	ratio("journal", "cli", "journal/cli")
	ratio("cli-http2", "cli", "cli-http2/cli")
	ratio("raw-http2", "raw", "raw-http2/raw")
}
