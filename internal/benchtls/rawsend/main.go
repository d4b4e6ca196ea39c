// Command rawsend is the hand-written net/http sender that "alexa-oos bulk
// message" is measured against: it sends the skill messages of a bulk
// input file with benchtls.RawSend, trusting the system's roots
// (SSL_CERT_FILE), and prints how many it sent.
//
//	rawsend -url https://127.0.0.1:PORT -input F [-proto http1|http2|http2x4] [-workers 16]
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/alexa-oos/alexa/internal/benchtls"
)

func main() {
	base := flag.String("url", "", "API base URL (required)")
	tokenURL := flag.String("token-url", "", "token URL (default: the API URL's "+benchtls.TokenPath+")")
	input := flag.String("input", "", "bulk message input, JSON lines (required)")
	proto := flag.String("proto", "http1", "http1, http2 or http2x4")
	workers := flag.Int("workers", benchtls.Workers, "requests in flight")
	clientID := flag.String("client-id", "amzn1.application-oa2-client.alexatest", "client id")
	secret := flag.String("client-secret", "alexatest-secret", "client secret")
	flag.Parse()
	if *base == "" || *input == "" {
		log.Fatal("rawsend: -url and -input are required")
	}
	if *tokenURL == "" {
		*tokenURL = *base + benchtls.TokenPath
	}
	p := map[string]benchtls.Proto{"http1": benchtls.HTTP1, "http2": benchtls.HTTP2, "http2x4": benchtls.HTTP2x4}
	pr, ok := p[*proto]
	if !ok {
		log.Fatalf("rawsend: -proto: http1, http2 or http2x4, not %q", *proto)
	}
	hc := benchtls.Client(&tls.Config{}, pr)
	ctx := context.Background()
	start := time.Now()
	token, err := benchtls.FetchToken(ctx, hc, *tokenURL, *clientID, *secret, "alexa:skill_messaging")
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open(*input)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	n, err := benchtls.RawSend(ctx, hc, *base, token, f, *workers)
	fmt.Printf("sent %d in %s\n", n, time.Since(start).Round(time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
}
