package benchtls

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Workers is the concurrency of every benchmark: the bulk sender's
// default.
const Workers = 16

// idTail stands for the opaque part of a real userId, which runs to about
// 200 characters.
const idTail = "AEWVQ5LGCWKBXJ2YQIHKNZ7TOLSP4AY3MRDDTFQ6XH5ULZBNKEJ7SWMQ2GAOFVPRTIKN5DZJYBX3HCWQLUO6SEMFRV7TYGKAJBNZXQ4ILHDP2WOCUSM5EVKFTRJAGYNB3QZXILOH7DWUCPMSE6KVTRAFJNGY2BZQXLI4HODWPCUMS5VEKT"

// UserID returns the userId of line i: as long as Alexa's, and distinct
// for every i.
func UserID(i int) string { return "amzn1.ask.account." + idTail + strconv.Itoa(10_000_000+i) }

// Line returns line i of a bulk message input: a reminder update for
// UserID(i).
func Line(i int) string {
	return `{"userId": "` + UserID(i) + `", "data": {"reminderId": "amzn1.alexa.reminder.` + strconv.Itoa(i) + `", "action": "update", "time": "18:30"}, "expiresAfterSeconds": 3600}`
}

// Input returns n lines of bulk message input, line i (from 1) Line(i),
// generated as they are read.
func Input(n int) io.Reader { return &genInput{n: n} }

type genInput struct {
	i, n int
	buf  []byte
}

func (g *genInput) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i >= g.n {
			return 0, io.EOF
		}
		g.i++
		g.buf = append(append(g.buf[:0], Line(g.i)...), '\n')
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// WriteInput writes Input(n) to a new file at path.
func WriteInput(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, Input(n)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Proto is a way for net/http to reach the server.
type Proto int

// The ways of sending compared.
const (
	// HTTP1 is HTTP/1.1 with a keep-alive pool as large as the
	// concurrency: one connection per worker.
	HTTP1 Proto = iota
	// HTTP2 is HTTP/2 as net/http does it: every request a stream of one
	// connection.
	HTTP2
	// HTTP2x4 is HTTP/2 over four connections, requests spread over them
	// in turn.
	HTTP2x4
)

func (p Proto) String() string {
	switch p {
	case HTTP1:
		return "http1"
	case HTTP2:
		return "http2"
	case HTTP2x4:
		return "http2x4"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// Client returns a hand-tuned net/http client speaking p to a server
// trusted by tc: what a careful Go programmer would write without this
// module.
func Client(tc *tls.Config, p Proto) *http.Client {
	transport := func(h2 bool) *http.Transport {
		var protos http.Protocols
		protos.SetHTTP1(!h2)
		protos.SetHTTP2(h2)
		return &http.Transport{
			TLSClientConfig:     tc.Clone(),
			Protocols:           &protos,
			MaxIdleConnsPerHost: 2 * Workers, // no connection closed for want of room
			IdleConnTimeout:     90 * time.Second,
		}
	}
	switch p {
	case HTTP2:
		return &http.Client{Transport: transport(true)}
	case HTTP2x4:
		m := &spread{}
		for range 4 {
			m.ts = append(m.ts, transport(true))
		}
		return &http.Client{Transport: m}
	}
	return &http.Client{Transport: transport(false)}
}

// spread sends each request over the next of its transports in turn.
type spread struct {
	ts   []*http.Transport
	next atomic.Uint32
}

func (s *spread) RoundTrip(r *http.Request) (*http.Response, error) {
	return s.ts[int(s.next.Add(1))%len(s.ts)].RoundTrip(r)
}

// FetchToken gets an access token from the LWA token endpoint tokenURL
// with client credentials, as a hand-written sender does once.
func FetchToken(ctx context.Context, hc *http.Client, tokenURL, clientID, secret, scope string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("token: status %d: %v", resp.StatusCode, err)
	}
	return tok.AccessToken, nil
}

// SendOne posts one skill message body for userID, as a hand-written
// sender does: http.NewRequest, two headers, Do, drain, close.
func SendOne(ctx context.Context, hc *http.Client, baseURL, token, userID string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+MessagesPath+url.PathEscape(userID), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// RawSend sends the skill messages of a bulk input as a hand-written
// net/http program would: one reader decoding each line once, workers
// goroutines posting the body built from its fields with a token fetched
// beforehand; no validation, no retry, no journal, no results. It returns
// how many were accepted, and an error when any was not.
func RawSend(ctx context.Context, hc *http.Client, baseURL, token string, input io.Reader, workers int) (int64, error) {
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
				if SendOne(ctx, hc, baseURL, token, it.user, it.body) != nil {
					failed.Add(1)
				} else {
					sent.Add(1)
				}
			}
		})
	}
	sc := bufio.NewScanner(input)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
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
		return sent.Load(), fmt.Errorf("raw: %d not accepted", n)
	}
	return sent.Load(), sc.Err()
}
