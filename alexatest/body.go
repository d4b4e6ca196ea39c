package alexatest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

// Body limits besides Options.MaxEventBytes. A skill message's limit is
// its data's, messaging.MaxDataBytes as compact JSON, checked once
// decoded (413 beyond); its body may be larger by the whitespace of
// pretty-printed JSON, up to maxMessageBody.
const (
	maxBody        = 16 << 20 // the most any path reads; bounds MaxEventBytes
	maxFormBody    = 64 << 10 // an LWA token request
	maxMessageBody = 64 << 10
	maxOtherBody   = 1 << 20
)

// readBody reads the whole request body, at most the path's limit and
// within Options.ReadTimeout, and puts it back in r for the handlers. It
// answers 413 for a body over the limit and 408 (closing the connection)
// for one that does not arrive in time, and then reports false.
func (e *Emulator) readBody(w http.ResponseWriter, r *http.Request) bool {
	limit, over := e.bodyLimit(r.URL.Path)
	// Bound the time to read the body, then lift the bound, so that a
	// slow handler (Fault.Latency) is never cut off: unlike
	// http.Server.ReadTimeout, which would cancel its context.
	rc := http.NewResponseController(w)
	timed := rc.SetReadDeadline(time.Now().Add(e.readTimeout)) == nil
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if timed && err == nil {
		rc.SetReadDeadline(time.Time{})
	}
	// On an error the deadline stays: the server gives up at once on
	// the rest of the body instead of waiting for it.
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			over(w)
			return false
		}
		w.Header().Set("Connection", "close")
		apiError(w, http.StatusRequestTimeout, "REQUEST_TIMEOUT", fmt.Sprintf("the request body did not arrive within %s: %v", e.readTimeout, err), nil)
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// bodyLimit returns the largest body accepted on path and how to refuse
// a larger one, in the shape of the API on that path.
func (e *Emulator) bodyLimit(path string) (int64, func(http.ResponseWriter)) {
	switch e.callKey(path) {
	case TokenPath:
		return maxFormBody, func(w http.ResponseWriter) {
			lwaError(w, http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("The request body is larger than %d bytes", maxFormBody))
		}
	case proactive.PathLive, proactive.PathDevelopment:
		return e.maxEvent, func(w http.ResponseWriter) {
			tooLarge(w, fmt.Sprintf("the event body is larger than %d bytes, the largest proactive event accepted", e.maxEvent))
		}
	case datastorePrefix:
		return e.ds.maxCommandsBody(), func(w http.ResponseWriter) {
			dsError(w, http.StatusBadRequest, datastore.ErrorPayloadExceedsLimit, fmt.Sprintf("the body is larger than %d bytes", e.ds.maxCommandsBody()))
		}
	case MessagesPath:
		return maxMessageBody, func(w http.ResponseWriter) {
			tooLarge(w, fmt.Sprintf("the body is larger than %d bytes; a message's data may be at most %d bytes as compact JSON", maxMessageBody, messaging.MaxDataBytes))
		}
	}
	return maxOtherBody, func(w http.ResponseWriter) {
		tooLarge(w, fmt.Sprintf("the body is larger than %d bytes", maxOtherBody))
	}
}

// isAdmin reports whether path is one of the emulator's own /_emulator/
// paths, or the console page.
func isAdmin(path string) bool {
	return path == ConsolePath || path+"/" == adminPrefix || strings.HasPrefix(path, adminPrefix)
}
