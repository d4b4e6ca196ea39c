package alexatest_test

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
)

// BenchmarkRetainedMemory sends 200,000 skill messages to an emulator with
// the default options, in process, and reports the heap it holds after
// them (heap-MB), after reading a full listing page (heap-after-list-MB)
// and that page's size (list-KB). The records kept are capped at
// DefaultMaxRecords, so the figures do not grow with the count sent.
//
//	go test -run '^$' -bench RetainedMemory -benchtime 1x ./alexatest/
func BenchmarkRetainedMemory(b *testing.B) {
	const sent = 200_000
	for b.Loop() {
		e := alexatest.New(alexatest.Options{})
		tok := bearer(b, e, lwa.ScopeSkillMessaging)
		for i := range sent {
			body := fmt.Sprintf(`{"data":{"reminder_id":"r%d","note":"a small payload of about sixty bytes here"}}`, i)
			if w := call(e, http.MethodPost, alexatest.MessagesPath+fmt.Sprintf("amzn1.ask.account.U%07d", i), tok, body); w.Code != 202 {
				b.Fatalf("message %d: %d %s", i, w.Code, w.Body)
			}
		}
		b.ReportMetric(heapMB(), "heap-MB")
		w := call(e, http.MethodGet, alexatest.AdminMessages+"?limit=1000", "", "")
		b.ReportMetric(float64(w.Body.Len())/1024, "list-KB")
		b.ReportMetric(heapMB(), "heap-after-list-MB")
		if n := len(e.Messages()); n != alexatest.DefaultMaxRecords {
			b.Fatalf("kept %d", n)
		}
	}
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}
