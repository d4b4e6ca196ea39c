package bulk_test

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
)

func newServer(t testing.TB, opts alexatest.Options) *alexatest.Server {
	t.Helper()
	opts.AllowUnsubscribed = true // the tests' users never subscribe
	srv := alexatest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

// fastRetry retries often and soon, so that tests with many injected
// faults stay short.
func fastRetry() *alexa.RetryPolicy {
	return &alexa.RetryPolicy{MaxAttempts: 10, BaseDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxRetryAfter: 10 * time.Second}
}

// scaledRetryAfter rewrites every Retry-After the emulator sends (whole
// seconds, at least 1) to that many times scale, so that a test with
// hundreds of throttled calls does not sleep for minutes. The sender
// still sees, and honours, a Retry-After on every 429.
type scaledRetryAfter struct {
	next  alexa.HTTPClient
	scale time.Duration
}

func (s scaledRetryAfter) Do(req *http.Request) (*http.Response, error) {
	resp, err := s.next.Do(req)
	if err == nil {
		if v := resp.Header.Get("Retry-After"); v != "" {
			if secs, perr := strconv.Atoi(v); perr == nil {
				resp.Header.Set("Retry-After", strconv.FormatFloat((time.Duration(secs)*s.scale).Seconds(), 'f', -1, 64))
			}
		}
	}
	return resp, err
}

// fastConfig is srv's configuration with fastRetry and Retry-After scaled
// down 200 times (1s becomes 5ms).
func fastConfig(srv *alexatest.Server) alexa.Config {
	cfg := srv.Config()
	cfg.Retry = fastRetry()
	cfg.HTTPClient = scaledRetryAfter{next: alexa.NewHTTPClient(alexa.HTTPOptions{}), scale: 5 * time.Millisecond}
	return cfg
}

func userID(i int) string { return fmt.Sprintf("amzn1.ask.account.U%07d", i) }

// messageLine is line i of a generated message input.
func messageLine(i int) string {
	return fmt.Sprintf(`{"userId": %q, "data": {"reminderId": "r-%d", "action": "update"}, "expiresAfterSeconds": 600}`, userID(i), i)
}

// eventLine is line i of a generated proactive input: a unicast message
// alert with timestamp, expiryTime and referenceId left to be filled.
func eventLine(i int) string {
	return fmt.Sprintf(`{"event": {"name": "AMAZON.MessageAlert.Activated", "payload": {"state": {"status": "UNREAD", "freshness": "NEW"}, "messageGroup": {"creator": {"name": "Andy %d"}, "count": 5, "urgency": "URGENT"}}}, "localizedAttributes": [{"locale": "en-US"}], "relevantAudience": {"type": "Unicast", "payload": {"user": %q}}}`, i, userID(i))
}

// genInput is n lines made by line, generated as they are read: a long
// input never held in memory.
type genInput struct {
	line func(int) string
	n, i int
	buf  []byte
}

func generate(n int, line func(int) string) io.Reader { return &genInput{line: line, n: n} }

func (g *genInput) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i >= g.n {
			return 0, io.EOF
		}
		g.i++
		g.buf = append(append(g.buf[:0], g.line(g.i)...), '\n')
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

func lines(n int, line func(int) string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(line(i))
		b.WriteByte('\n')
	}
	return b.String()
}
