package skillmsg_test

import (
	"encoding/json"
	"testing"

	"github.com/alexa-oos/alexa/internal/skillmsg"
)

func TestPath(t *testing.T) {
	t.Parallel()
	if got := skillmsg.Path("amzn1.ask.account.A/.B/C D?e=%f"); got != "/v1/skillmessages/users/amzn1.ask.account.A%2F.B%2FC%20D%3Fe%3D%25f" {
		t.Errorf("Path = %s", got)
	}
}

// The hand-built body is byte for byte what encoding/json makes of it.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, d := range []any{nil, map[string]string{"a": "b \"q\""}, json.RawMessage(`{"x":[1,2,{"y":null}]}`)} {
		e, err := skillmsg.Encode("u", d, 120, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(e)
		if got := e.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON = %s, want %s", got, want)
		}
	}
	if _, err := skillmsg.Encode("u", json.RawMessage(`{"a":}`), 0, nil); err == nil {
		t.Error("invalid compact JSON accepted")
	}
}

// Data is encoded with the marshal given, and what it makes is compacted
// and checked as any JSON is.
func TestEncodeWithMarshal(t *testing.T) {
	t.Parallel()
	calls := 0
	indent := func(v any) ([]byte, error) {
		calls++
		return json.MarshalIndent(v, "", "  ")
	}
	e, err := skillmsg.Encode("u", map[string]int{"a": 1}, 0, indent)
	if err != nil || string(e.Data) != `{"a":1}` || e.ExpiresAfterSeconds != skillmsg.DefaultExpiresAfterSeconds || calls != 1 {
		t.Errorf("Encode = %+v, %v after %d calls; want compact data, the default expiry, one call", e, err, calls)
	}
	// Data that is JSON already is not encoded again.
	if _, err := skillmsg.Encode("u", json.RawMessage(`{}`), 0, indent); err != nil || calls != 1 {
		t.Errorf("raw data: %v, %d calls", err, calls)
	}
	var nilMap map[string]string
	for _, marshal := range []func(any) ([]byte, error){nil, indent} {
		if e, err := skillmsg.Encode("u", nilMap, 0, marshal); err != nil || string(e.Data) != "{}" {
			t.Errorf("nil map: %+v, %v; want {}", e, err)
		}
		if _, err := skillmsg.Encode("u", []int{1}, 0, marshal); err == nil {
			t.Error("an array accepted as data")
		}
	}
}
