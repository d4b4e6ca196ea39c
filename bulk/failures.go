package bulk

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
)

// Failure is one line of a failures file: a Failed, Invalid or Unknown
// item, with the input as it was, so that it can be fixed and fed back
// (for instance jq -c .input failures.jsonl > retry.jsonl), with the same
// journal if the job had one: the journal knows items by content, so
// every line of retry.jsonl that was not delivered is sent.
type Failure struct {
	Line   int    `json:"line"`
	Status Status `json:"status"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
	// Input is the line itself when it is JSON, else the line as a string.
	Input json.RawMessage `json:"input"`
}

// FailureWriter writes a failures file: one JSON line per Failed, Invalid
// or Unknown result. The input is kept as it was, HTML characters
// unescaped, so that an item fed back keeps its ItemID. It is safe for concurrent use and writes each record in
// one Write, unbuffered, so what a killed job wrote is whole.
type FailureWriter struct {
	mu  sync.Mutex
	w   io.Writer
	n   int
	buf bytes.Buffer
}

// NewFailureWriter returns a FailureWriter writing to w.
func NewFailureWriter(w io.Writer) *FailureWriter { return &FailureWriter{w: w} }

// NewFailure returns the failures-file record of r.
func NewFailure(r Result) Failure {
	f := Failure{Line: r.Line, Status: r.Status, Reason: r.Reason()}
	if r.Err != nil {
		f.Error = r.Err.Error()
	}
	if len(r.Input) > 0 && json.Valid(r.Input) {
		f.Input = r.Input
	} else {
		f.Input, _ = json.Marshal(string(r.Input))
	}
	return f
}

// Write records r if it is Failed, Invalid or Unknown, and does nothing
// otherwise.
func (fw *FailureWriter) Write(r Result) error {
	if r.Status != Failed && r.Status != Invalid && r.Status != Unknown {
		return nil
	}
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.buf.Reset()
	enc := json.NewEncoder(&fw.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(NewFailure(r)); err != nil { // one line, newline included
		return err
	}
	if _, err := fw.w.Write(fw.buf.Bytes()); err != nil {
		return err
	}
	fw.n++
	return nil
}

// Count returns how many records were written.
func (fw *FailureWriter) Count() int {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	return fw.n
}
