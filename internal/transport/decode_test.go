package transport_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/transport"
	"github.com/google/go-cmp/cmp"
)

// errFields is what callers read off an *alexa.Error.
type errFields struct {
	Op         string
	StatusCode int
	Code       string
	Message    string
	Body       string
	RetryAfter time.Duration
}

func fieldsOf(e *alexa.Error) errFields {
	return errFields{e.Op, e.StatusCode, e.Code, e.Message, string(e.Body), e.RetryAfter}
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	header := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   errFields
	}{
		{
			name: "numeric code", status: 400, body: `{"code": 400, "message":"x"}`,
			want: errFields{Op: "op", StatusCode: 400, Code: "400", Message: "x", Body: `{"code": 400, "message":"x"}`},
		},
		{
			name: "string code", status: 400, body: `{"code":"INVALID","message":"x"}`,
			want: errFields{Op: "op", StatusCode: 400, Code: "INVALID", Message: "x", Body: `{"code":"INVALID","message":"x"}`},
		},
		{
			name: "leading whitespace and extra fields", status: 409, body: "\n  {\"code\":\"DUPLICATE\",\"message\":\"dup\",\"extra\":[1,2]}\n",
			want: errFields{Op: "op", StatusCode: 409, Code: "DUPLICATE", Message: "dup", Body: "\n  {\"code\":\"DUPLICATE\",\"message\":\"dup\",\"extra\":[1,2]}\n"},
		},
		{
			name: "null code", status: 500, body: `{"code":null,"message":"boom"}`,
			want: errFields{Op: "op", StatusCode: 500, Message: "boom", Body: `{"code":null,"message":"boom"}`},
		},
		{
			name: "code as object is dropped", status: 500, body: `{"code":{"a":1},"message":"m"}`,
			want: errFields{Op: "op", StatusCode: 500, Message: "m", Body: `{"code":{"a":1},"message":"m"}`},
		},
		{
			name: "html page", status: 403, header: header("Content-Type", "text/html"), body: `<html><body>Forbidden</body></html>`,
			want: errFields{Op: "op", StatusCode: 403, Body: `<html><body>Forbidden</body></html>`},
		},
		{
			name: "truncated json", status: 502, body: `{"code":"X","mess`,
			want: errFields{Op: "op", StatusCode: 502, Body: `{"code":"X","mess`},
		},
		{
			name: "json array", status: 400, body: `[{"code":"X"}]`,
			want: errFields{Op: "op", StatusCode: 400, Body: `[{"code":"X"}]`},
		},
		{
			name: "empty body", status: 404,
			want: errFields{Op: "op", StatusCode: 404},
		},
		{
			name: "type stands in for a missing code", status: 400, body: `{"type":"COMMANDS_PAYLOAD_EXCEEDS_LIMIT","message":"too big"}`,
			want: errFields{Op: "op", StatusCode: 400, Code: "COMMANDS_PAYLOAD_EXCEEDS_LIMIT", Message: "too big", Body: `{"type":"COMMANDS_PAYLOAD_EXCEEDS_LIMIT","message":"too big"}`},
		},
		{
			name: "code wins over type", status: 400, body: `{"code":"C","type":"T","message":"m"}`,
			want: errFields{Op: "op", StatusCode: 400, Code: "C", Message: "m", Body: `{"code":"C","type":"T","message":"m"}`},
		},
		{
			name: "retry-after seconds", status: 429, header: header("Retry-After", "7"), body: `{"message":"slow down"}`,
			want: errFields{Op: "op", StatusCode: 429, Message: "slow down", Body: `{"message":"slow down"}`, RetryAfter: 7 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := transport.DecodeError("op", tt.status, tt.header, []byte(tt.body))
			if diff := cmp.Diff(tt.want, fieldsOf(e)); diff != "" {
				t.Errorf("DecodeError fields (-want +got):\n%s", diff)
			}
			if e.Error() == "" {
				t.Error("Error() is empty")
			}
		})
	}
}

func TestDecodeErrorBoundsBody(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("x"), alexa.MaxErrorBody+1000)
	e := transport.DecodeError("op", 500, nil, body)
	if len(e.Body) != alexa.MaxErrorBody {
		t.Errorf("len(Body) = %d, want %d", len(e.Body), alexa.MaxErrorBody)
	}
	msg := e.Error()
	if len(msg) > 1000 {
		t.Errorf("Error() is %d bytes long: a huge body must be shortened in the message", len(msg))
	}
	if !strings.Contains(msg, "xxxx") {
		t.Errorf("Error() = %q, want the start of the body", msg)
	}
}

// The reason is the code when it is a word, else the word that starts the
// message; and a 403 that says the user has not subscribed is not a
// refused token.
func TestDecodeErrorReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status            int
		body, reason      string
		unauthorized, sub bool
	}{
		{403, `{"code":403,"message":"USER_NOT_SUBSCRIBED: the user has not subscribed"}`, "USER_NOT_SUBSCRIBED", false, true},
		{403, `{"code":403,"message":"The authentication token is invalid"}`, "", true, false},
		{403, `{"type":"INVALID_ACCESS_TOKEN","message":"expired"}`, "INVALID_ACCESS_TOKEN", true, false},
		{400, `{"code":"INVALID_REQUEST","message":"x"}`, "INVALID_REQUEST", false, false},
		{400, `{"code":400,"message":"Note: lower case"}`, "", false, false},
		{403, `<html>403</html>`, "", true, false},
	} {
		e := transport.DecodeError("op", tc.status, nil, []byte(tc.body))
		if e.Reason != tc.reason || errors.Is(e, alexa.ErrUnauthorized) != tc.unauthorized || errors.Is(e, alexa.ErrNotSubscribed) != tc.sub {
			t.Errorf("%s: Reason %q, ErrUnauthorized %v, ErrNotSubscribed %v; want %q, %v, %v", tc.body, e.Reason,
				errors.Is(e, alexa.ErrUnauthorized), errors.Is(e, alexa.ErrNotSubscribed), tc.reason, tc.unauthorized, tc.sub)
		}
	}
}
