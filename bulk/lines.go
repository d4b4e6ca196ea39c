package bulk

import "github.com/alexa-oos/alexa/internal/jsonl"

// MaxLineBytes bounds one input line. A longer line is reported Invalid
// and skipped without being held in memory.
const MaxLineBytes = jsonl.MaxLineBytes

// ErrLineTooLong is the error of a line longer than MaxLineBytes.
var ErrLineTooLong = jsonl.ErrLineTooLong
