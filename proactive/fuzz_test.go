package proactive_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/alexa-oos/alexa/proactive"
)

// FuzzRequest feeds arbitrary bodies to what the CLI, the bulk sender and
// the emulator do with a request they read: decode, fill, validate, warn,
// preview. None may panic, and a request that validates must encode.
func FuzzRequest(f *testing.F) {
	files, _ := filepath.Glob("../examples/*.json")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"timestamp":"2026-11-25T12:00:00.123456","relevantAudience":{"type":"Unicast","payload":{"user":7}}}`))
	f.Add([]byte(`{"event":{"name":"AMAZON.TrashCollectionAlert.Activated","payload":{"alert":{"garbageTypes":"x"}}},"localizedAttributes":[1,{"locale":2}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var req proactive.Request
		if json.Unmarshal(data, &req) != nil {
			return
		}
		proactive.Warnings(&req)
		proactive.Preview(&req)
		req.Fill(req.Timestamp, "fuzz")
		if proactive.DefaultRules().Check(&req) == nil {
			if _, err := json.Marshal(req); err != nil {
				t.Fatalf("valid request does not encode: %v", err)
			}
			proactive.Preview(&req)
		}
	})
}
