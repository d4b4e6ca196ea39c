// Command tlsserver serves the benchmarks' TLS server in a process of its
// own: on a loopback port, offering h2 and http/1.1, with httptest's
// certificate. It writes the certificate as PEM to -cert, prints its base
// URL on one line of standard output, and serves until its standard input
// closes.
//
//	tlsserver -cert cert.pem [-handler bare|emulator]
//
// The bare handler answers the least a server can (benchtls.Bare); the
// emulator is alexatest's, keeping no records.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/benchtls"
)

func main() {
	cert := flag.String("cert", "", "write the server's certificate here, as PEM (required)")
	handler := flag.String("handler", "bare", "bare or emulator")
	flag.Parse()
	var h http.Handler
	switch *handler {
	case "bare":
		h = benchtls.Bare()
	case "emulator":
		h = alexatest.New(alexatest.Options{DiscardRecords: true})
	default:
		log.Fatalf("tlsserver: -handler: bare or emulator, not %q", *handler)
	}
	if *cert == "" {
		log.Fatal("tlsserver: -cert is required")
	}
	srv := benchtls.Start(h)
	defer srv.Close()
	if err := srv.WriteCert(*cert); err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
}
