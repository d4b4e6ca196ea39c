package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/internal/benchtls"
)

func main() {
	url := flag.String("url", "", "")
	n := flag.Int("n", 20000, "")
	mode := flag.String("mode", "bulk", "bulk|raw")
	prof := flag.String("prof", "/tmp/prof.out", "")
	notimeout := flag.Bool("notimeout", false, "")
	flag.Parse()
	f, _ := os.Create(*prof)
	pprof.StartCPUProfile(f)
	defer pprof.StopCPUProfile()
	t0 := time.Now()
	c0 := benchtls.CPUTime()
	ctx := context.Background()
	switch *mode {
	case "bulk":
		hc := alexa.NewHTTPClient(alexa.HTTPOptions{})
		if *notimeout {
			hc.Timeout = 0
		}
		cfg := alexa.Config{Credentials: alexa.Credentials{ClientID: "a", ClientSecret: "b"}, Endpoint: *url, TokenURL: *url + benchtls.TokenPath, HTTPClient: hc}
		sum, err := bulk.SendMessages(ctx, cfg, benchtls.Input(*n), bulk.Options{})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(sum.Sent)
	case "raw":
		hc := benchtls.Client(&tls.Config{}, benchtls.HTTP1)
		sent, err := benchtls.RawSend(ctx, hc, *url, benchtls.Token, benchtls.Input(*n), 16)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(sent)
	}
	fmt.Printf("%s wall %v cpu/msg %.1fµs\n", *mode, time.Since(t0), float64((benchtls.CPUTime()-c0).Nanoseconds())/float64(*n)/1e3)
}
