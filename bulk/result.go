package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/lwa"
)

// Status is what became of one item.
type Status int

// The statuses of an item. Sent, Duplicate and Skipped count as delivered.
const (
	// Sent: the API accepted the item (202); a DataStore item, when every
	// device got it or has it queued (see SendDataStore).
	Sent Status = iota + 1
	// Duplicate: already delivered. A proactive event whose referenceId
	// Alexa already had, answered 409: an earlier attempt, an earlier run,
	// or another line with the same referenceId (an identical line, when
	// it is derived) had delivered it.
	Duplicate
	// Failed: the API refused the item or could not be reached; Err says why.
	Failed
	// Invalid: the line is not JSON or breaks the API's rules; nothing
	// was sent. Err is an *alexa.ValidationError.
	Invalid
	// Skipped: the journal says an earlier run delivered the item.
	Skipped
	// Unknown: the request was written in full but no answer came, and it
	// was not sent again (Options.AtMostOnce, or the job stopped): the
	// item may or may not have been delivered. Err matches
	// alexa.ErrOutcomeUnknown. It is not journaled: a rerun sends it.
	Unknown
)

var statusNames = [...]string{Sent: "sent", Duplicate: "duplicate", Failed: "failed", Invalid: "invalid", Skipped: "skipped", Unknown: "unknown"}

func (s Status) String() string {
	if s > 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText writes the status's name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status's name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n != "" && n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("bulk: unknown status %q", b)
}

// Delivered reports whether the status counts as delivered.
func (s Status) Delivered() bool { return s == Sent || s == Duplicate || s == Skipped }

// Result is the outcome of one input line.
type Result struct {
	// Line is the item's line number in the input, from 1.
	Line   int
	Status Status
	// Err is why a Failed or Invalid item was not delivered: an
	// *alexa.ValidationError, *alexa.Error, *alexa.TransportError,
	// *lwa.Error or the context's error. Nil otherwise.
	Err error
	// Attempts is how many HTTP attempts were made (0 when none).
	Attempts int
	// UserID is the item's user, when it could be read.
	UserID string
	// ReferenceID is a proactive event's referenceId, filled or given.
	ReferenceID string
	// Input is the line as read. It must not be modified.
	Input []byte
	// MaybeDuplicated is true for a delivered skill message that was sent
	// again after an attempt whose outcome was unknown: the user may get
	// it twice (see Options.AtMostOnce).
	MaybeDuplicated bool
	// DataStore is a DataStore item's outcome per device, once Alexa
	// answered for its devices; nil otherwise.
	DataStore *DataStoreResult
}

// Reason classifies a failure for the summary: the HTTP status as text
// ("429", "500", …), "invalid", "unknown" (the outcome is unknown),
// "transport", "token" (no access token could be had), "canceled", a
// DataStore device's failure (its type, such as "INVALID_DEVICE"), or
// "error".
func (r Result) Reason() string {
	switch r.Status {
	case Invalid:
		return "invalid"
	case Unknown:
		return "unknown"
	}
	return Reason(r.Err)
}

// Reason classifies err as Result.Reason does; "" for nil.
func Reason(err error) string {
	var (
		ae *alexa.Error
		te *alexa.TransportError
		le *lwa.Error
		ve *alexa.ValidationError
		de *DeviceError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &de) && de.reason() != "":
		return de.reason()
	case errors.As(err, &ve):
		return "invalid"
	case errors.As(err, &ae):
		return strconv.Itoa(ae.StatusCode)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case errors.As(err, &le), errors.Is(err, lwa.ErrTokenUnavailable):
		return "token"
	case errors.As(err, &te):
		return "transport"
	}
	return "error"
}

// MarshalJSON writes the result as one JSON object, for -o json output:
// {"line","status","reason","error","attempts","userId","referenceId","maybeDuplicated","datastore"}.
func (r Result) MarshalJSON() ([]byte, error) {
	v := struct {
		Line            int    `json:"line"`
		Status          Status `json:"status"`
		Reason          string `json:"reason,omitempty"`
		Error           string `json:"error,omitempty"`
		Attempts        int    `json:"attempts"`
		UserID          string `json:"userId,omitempty"`
		ReferenceID     string `json:"referenceId,omitempty"`
		MaybeDuplicated bool   `json:"maybeDuplicated,omitempty"`

		DataStore *DataStoreResult `json:"datastore,omitempty"`
	}{Line: r.Line, Status: r.Status, Attempts: r.Attempts, UserID: r.UserID, ReferenceID: r.ReferenceID, MaybeDuplicated: r.MaybeDuplicated, DataStore: r.DataStore}
	if r.Err != nil {
		v.Reason, v.Error = r.Reason(), r.Err.Error()
	}
	return json.Marshal(v)
}

// Summary counts the results of a job.
type Summary struct {
	Kind Kind `json:"kind"`
	// Read is how many lines have a result (blank lines are not items).
	// Lines read but not sent when the job was stopped are not counted.
	Read int `json:"read"`
	// Sent, Duplicates (already delivered), Skipped, Failed, Invalid and
	// Unknown count results by status.
	Sent       int `json:"sent"`
	Duplicates int `json:"duplicates"`
	Skipped    int `json:"skipped"`
	Failed     int `json:"failed"`
	Invalid    int `json:"invalid"`
	Unknown    int `json:"unknown"`
	// PossiblyDuplicated counts the delivered skill messages that were
	// sent again after an attempt of unknown outcome: their users may get
	// them twice.
	PossiblyDuplicated int `json:"possiblyDuplicated"`
	// Queued counts the delivered DataStore items with a device offline:
	// Alexa keeps trying it until attemptDeliveryUntil (the ids are in
	// Result.DataStore).
	Queued int `json:"queued"`
	// Reasons counts the Failed, Invalid and Unknown items by Reason.
	Reasons map[string]int `json:"reasons"`
	// Retried is how many retries were made; Throttled how many calls
	// were answered 429.
	Retried   int `json:"retried"`
	Throttled int `json:"throttled"`
	// Resumed is true when a journal from an earlier run was used.
	Resumed bool `json:"resumed"`
	// Complete is true when the whole input was read and every line has
	// a result: the job was not interrupted.
	Complete bool `json:"complete"`
	// Elapsed is the job's duration.
	Elapsed time.Duration `json:"-"`
}

// Delivered returns how many items count as delivered: sent, duplicates
// and skipped.
func (s *Summary) Delivered() int { return s.Sent + s.Duplicates + s.Skipped }

// AllDelivered reports whether the job ran to the end and every item was
// delivered: the condition for exit status 0.
func (s *Summary) AllDelivered() bool {
	return s.Complete && s.Failed == 0 && s.Invalid == 0 && s.Unknown == 0 && s.Delivered() == s.Read
}

// Rate returns the achieved rate: items sent or found duplicate per
// second of Elapsed (skipped items cost nothing and are not counted).
func (s *Summary) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Sent+s.Duplicates) / s.Elapsed.Seconds()
}

// MarshalJSON adds elapsedSeconds, rate and allDelivered to the fields.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	reasons := s.Reasons
	if reasons == nil {
		reasons = map[string]int{}
	}
	p := plain(s)
	p.Reasons = reasons
	return json.Marshal(struct {
		plain
		ElapsedSeconds float64 `json:"elapsedSeconds"`
		Rate           float64 `json:"rate"`
		AllDelivered   bool    `json:"allDelivered"`
	}{p, s.Elapsed.Seconds(), s.Rate(), s.AllDelivered()})
}

// String renders the summary as a few lines of text.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "read %d, delivered %d (sent %d, already delivered %d, skipped %d), failed %d, invalid %d",
		s.Read, s.Delivered(), s.Sent, s.Duplicates, s.Skipped, s.Failed, s.Invalid)
	if s.Unknown > 0 {
		fmt.Fprintf(&b, ", outcome unknown %d", s.Unknown)
	}
	b.WriteByte('\n')
	if s.PossiblyDuplicated > 0 {
		fmt.Fprintf(&b, "possibly duplicated %d (sent again after an attempt of unknown outcome)\n", s.PossiblyDuplicated)
	}
	if s.Queued > 0 {
		fmt.Fprintf(&b, "queued %d (a device offline: Alexa keeps trying it until attemptDeliveryUntil)\n", s.Queued)
	}
	if len(s.Reasons) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(s.Reasons)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Reasons[k]))
		}
		fmt.Fprintf(&b, "not delivered by reason: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "retried %d, throttled %d, elapsed %s, rate %.1f/s", s.Retried, s.Throttled, s.Elapsed.Round(time.Millisecond), s.Rate())
	if !s.Complete {
		b.WriteString(", interrupted")
	}
	return b.String()
}
