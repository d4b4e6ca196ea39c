package skill

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
)

// DefaultMaxBodyBytes bounds the request bodies read by Handler and
// Verifier.Middleware. Alexa's requests are a few kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// emptyResponse is the smallest response Alexa accepts for a request that
// needs no answer. An empty body is refused by Alexa's response
// validation, even for out-of-session requests.
const emptyResponse = `{"version":"1.0","response":{}}`

// WriteEmptyResponse answers 200 with {"version":"1.0","response":{}}, the
// acknowledgement Alexa expects for out-of-session requests. Handler does
// it for you; it is for handlers built on Verifier.Middleware.
func WriteEmptyResponse(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, emptyResponse)
}

// Middleware returns a handler that reads the body (at most the
// options' MaxBodyBytes), verifies the request with v and passes it to next
// with the body intact. A refused request is answered 400 with no detail;
// the reason goes to v's Logger at warning level.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r, v.o.MaxBodyBytes)
		if err == nil {
			err = v.Verify(r, body)
		}
		if err != nil {
			refused(w, r, v.o.Logger, err)
			return
		}
		restoreBody(r, body)
		next.ServeHTTP(w, r)
	})
}

// readBody reads at most max bytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, refuse(ReasonBodyTooLarge, err, "more than %d bytes", max)
		}
		return nil, refuse(ReasonBodyUnreadable, err, "%v", err)
	}
	return body, nil
}

func restoreBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// refused answers 400 with no detail, and logs why.
func refused(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	attrs := []slog.Attr{slog.String("remote", r.RemoteAddr), slog.String("error", err.Error())}
	var ve *VerificationError
	if errors.As(err, &ve) {
		attrs = append(attrs, slog.String("reason", string(ve.Reason)))
	}
	log.LogAttrs(r.Context(), slog.LevelWarn, "skill: request refused", attrs...)
	http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
}

// Handler is an http.Handler for a skill's out-of-session requests. It
// verifies each request, decodes it, calls the function set for its type
// and answers {"version":"1.0","response":{}}, so no function has to
// build a response. A function's error is answered 500 with no detail and
// logged; Alexa then delivers the request again later.
//
// A request whose type has no function set goes to Fallback, or, without
// one, is acknowledged with the same empty response.
//
//	h := &skill.Handler{
//		OnMessage: func(ctx context.Context, r *skill.MessageReceived) error { ... },
//		OnGrant:   skill.StoreGrant(users),
//	}
//	http.ListenAndServeTLS(":443", cert, key, h)
type Handler struct {
	// Verifier verifies requests. Nil means one with the default options
	// (system roots), which is what a skill hosted as a web service needs.
	Verifier *Verifier
	// SkipVerification turns verification off: for requests that come
	// through AWS Lambda (which are not signed) or a proxy that verifies.
	// Never set it on an endpoint reachable from the internet.
	SkipVerification bool
	// Logger receives refusals (warning) and handler errors (error).
	// Default: the Verifier's Logger; with neither, nothing is logged.
	Logger *slog.Logger
	// MaxBodyBytes bounds the body. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// OnMessage handles Messaging.MessageReceived: a skill message.
	OnMessage func(context.Context, *MessageReceived) error
	// OnSubscriptionChanged handles
	// AlexaSkillEvent.ProactiveSubscriptionChanged. Requests can arrive
	// out of order: keep the state of the latest Timestamp.
	OnSubscriptionChanged func(context.Context, *ProactiveSubscriptionChanged) error
	// OnPermissionAccepted handles AlexaSkillEvent.SkillPermissionAccepted.
	OnPermissionAccepted func(context.Context, *SkillPermissionAccepted) error
	// OnPermissionChanged handles AlexaSkillEvent.SkillPermissionChanged.
	OnPermissionChanged func(context.Context, *SkillPermissionChanged) error
	// OnSkillEnabled handles AlexaSkillEvent.SkillEnabled.
	OnSkillEnabled func(context.Context, *SkillEnabled) error
	// OnSkillDisabled handles AlexaSkillEvent.SkillDisabled.
	OnSkillDisabled func(context.Context, *SkillDisabled) error
	// OnGrant handles Alexa.Authorization.Grant; StoreGrant makes one that
	// exchanges the code and stores the user's tokens.
	OnGrant func(context.Context, *AuthorizationGrant) error
	// OnDataStoreError handles Alexa.DataStore.Error.
	OnDataStoreError func(context.Context, *DataStoreError) error
	// Fallback serves every other request, already verified, with its body
	// intact, and writes its own response: an in-session skill framework,
	// for instance. Nil acknowledges them with the empty response.
	Fallback http.Handler

	once        sync.Once
	defVerifier *Verifier
}

func (h *Handler) verifier() *Verifier {
	if h.Verifier != nil {
		return h.Verifier
	}
	h.once.Do(func() { h.defVerifier = NewVerifier(VerifierOptions{Logger: h.Logger}) })
	return h.defVerifier
}

func (h *Handler) logger() *slog.Logger {
	switch {
	case h.Logger != nil:
		return h.Logger
	case h.Verifier != nil:
		return h.Verifier.o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// ServeHTTP verifies, decodes and dispatches one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	max := h.MaxBodyBytes
	if max <= 0 {
		max = DefaultMaxBodyBytes
	}
	log := h.logger()
	body, err := readBody(w, r, max)
	if err == nil && !h.SkipVerification {
		err = h.verifier().Verify(r, body)
	}
	if err != nil {
		refused(w, r, log, err)
		return
	}
	req, err := Decode(body)
	if err != nil {
		refused(w, r, log, err)
		return
	}
	ctx := r.Context()
	handled, err := h.dispatch(ctx, req)
	if !handled && h.Fallback != nil {
		restoreBody(r, body)
		h.Fallback.ServeHTTP(w, r)
		return
	}
	c := req.Info()
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "skill: handler failed",
			slog.String("type", c.Type), slog.String("requestId", c.RequestID), slog.String("userId", c.UserID()), slog.String("error", err.Error()))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	log.LogAttrs(ctx, slog.LevelDebug, "skill: request handled",
		slog.String("type", c.Type), slog.String("requestId", c.RequestID), slog.Bool("handled", handled))
	WriteEmptyResponse(w)
}

// dispatch calls the function set for req's type, if any.
func (h *Handler) dispatch(ctx context.Context, req Request) (handled bool, err error) {
	switch r := req.(type) {
	case *MessageReceived:
		return call(ctx, h.OnMessage, r)
	case *ProactiveSubscriptionChanged:
		return call(ctx, h.OnSubscriptionChanged, r)
	case *SkillPermissionAccepted:
		return call(ctx, h.OnPermissionAccepted, r)
	case *SkillPermissionChanged:
		return call(ctx, h.OnPermissionChanged, r)
	case *SkillEnabled:
		return call(ctx, h.OnSkillEnabled, r)
	case *SkillDisabled:
		return call(ctx, h.OnSkillDisabled, r)
	case *AuthorizationGrant:
		return call(ctx, h.OnGrant, r)
	case *DataStoreError:
		return call(ctx, h.OnDataStoreError, r)
	}
	return false, nil
}

func call[R Request](ctx context.Context, f func(context.Context, R) error, r R) (bool, error) {
	if f == nil {
		return false, nil
	}
	return true, f(ctx, r)
}
