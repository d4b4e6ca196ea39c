package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/alexa-oos/alexa/internal/jsonin"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/alexa-oos/alexa/proactive"
)

// MaxInputBytes bounds a JSON file argument (or stdin): four times the
// largest request body (proactive.MaxRequestBytes), as a file may be
// indented. A larger input is refused without being read into memory.
const MaxInputBytes = 4 * proactive.MaxRequestBytes

// readJSON reads the JSON document of a file argument, "-" being s.In,
// as every command that reads one does (see package jsonin): at most
// MaxInputBytes, a UTF-8 byte order mark dropped, invalid UTF-8 and empty
// input refused. It returns the name to show in messages; flag, such as
// "--data-file: ", prefixes errors.
func (s *IOStreams) readJSON(flag, file string) (name string, data []byte, err error) {
	name = file
	var raw []byte
	if file == "-" {
		name = "stdin"
		raw, err = jsonin.Read(s.In, MaxInputBytes)
	} else {
		raw, err = readFile(file)
	}
	if err == nil {
		data, err = jsonin.Clean(raw)
	}
	var (
		pe *fs.PathError
		ee *jsonin.EncodingError
		te *jsonin.TooLargeError
		se *jsonin.SyntaxError
	)
	switch {
	case err == nil:
		return name, data, nil
	case errors.As(err, &pe):
		return name, nil, usagef("%s%v", flag, err)
	case errors.Is(err, jsonin.ErrEmpty), errors.As(err, &ee), errors.As(err, &te), errors.As(err, &se):
		e := invalidFile(flag+name, "%v", err)
		e.err = err
		return name, nil, e
	}
	return name, nil, usagef("%s%s: %v", flag, name, err)
}

// jsonFlag returns the JSON text of a flag's value (--data, --content-json)
// as readJSON would read it from a file; errors name the flag and show the
// value.
func jsonFlag(flag, value string) ([]byte, error) {
	b, err := jsonin.Clean([]byte(value))
	if err != nil {
		e := usagef("%s: %v (got %s)", flag, err, text.ShowValue(value))
		e.err = err
		return nil, e
	}
	return b, nil
}

// readFile reads a file of at most MaxInputBytes, refusing a larger one
// before reading it.
func readFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, &fs.PathError{Op: "read", Path: file, Err: fmt.Errorf("is a directory, not a JSON file")}
	case fi.Mode().IsRegular() && fi.Size() > MaxInputBytes:
		return nil, &jsonin.TooLargeError{Max: MaxInputBytes}
	}
	// Not regular (a pipe, a device): the bound applies while reading.
	return jsonin.Read(f, MaxInputBytes)
}
