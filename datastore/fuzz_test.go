package datastore_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeResponse feeds arbitrary bodies to the decoders of both
// response shapes: they must never panic, must refuse what is not a JSON
// object, and what they accept must survive a round trip.
func FuzzDecodeResponse(f *testing.F) {
	for _, seed := range []string{
		`{"results":[{"deviceId":"d1","type":"SUCCESS"},{"deviceId":"d2","type":"DEVICE_UNAVAILABLE","message":"offline"}],"queuedResultId":"q"}`,
		`{"results":[]}`,
		`{"results":null,"queuedResultId":7}`,
		`{"results":[{"deviceId":1}]}`,
		`{"items":[{"deviceId":"d","type":"NEW_TYPE"}],"paginationContext":{"totalCount":1,"nextToken":"t","previousToken":"p"}}`,
		`{"items":[],"paginationContext":{"totalCount":-3}}`,
		`{"paginationContext":{"totalCount":1e99}}`,
		`  {"results":[{"deviceId":"\ud800","type":"\u0000"}]} `,
		`[]`, `null`, ``, `<html>`, `{`, `{"results":[{}]}trailing`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		codec := alexa.JSONCodec{}
		if r, err := datastore.DecodeResponse(codec, body); err == nil {
			again, err := datastore.DecodeResponse(codec, mustJSON(t, r))
			if err != nil {
				t.Fatalf("re-decoding %s: %v", mustJSON(t, r), err)
			}
			if diff := cmp.Diff(r, again); diff != "" {
				t.Fatalf("round trip changed the response:\n%s", diff)
			}
			r.Failed()
		} else if r != nil {
			t.Fatal("a failed decode returned a response")
		}
		if q, err := datastore.DecodeQueuedResults(codec, body); err == nil {
			if q.PaginationContext.TotalCount < 0 {
				t.Fatalf("negative totalCount accepted: %+v", q)
			}
			if _, err := datastore.DecodeQueuedResults(codec, mustJSON(t, q)); err != nil {
				t.Fatalf("re-decoding: %v", err)
			}
		}
	})
}

// FuzzCheck feeds arbitrary request bodies to the rules the client, the
// CLI and the emulator share: no panic, and a request they pass encodes.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(`{"commands":[{"type":"PUT_OBJECT","namespace":"n","key":"k","content":{"a":1}}],"target":{"type":"USER","id":"u"}}`))
	f.Add([]byte(`{"commands":[{"type":"CLEAR"}],"target":{"type":"DEVICES","items":["a",""]},"attemptDeliveryUntil":"2099-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"commands":[{"type":"PUT_OBJECT","content":null}],"target":{}}`))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var r datastore.Request
		if json.Unmarshal(body, &r) != nil {
			return
		}
		vs, typ := datastore.DefaultLimits().Check(&r, now)
		if (len(vs) == 0) != (typ == "") {
			t.Fatalf("violations %v with error type %q", vs, typ)
		}
		if len(vs) == 0 {
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("a valid request does not encode: %v", err)
			}
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
