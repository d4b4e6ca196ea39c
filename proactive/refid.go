package proactive

import (
	"crypto/rand"
	"encoding/hex"
)

// NewReferenceID returns a fresh referenceId: 32 lowercase hex digits from
// crypto/rand. It passes even Rules.StrictReferenceID (letters, digits and
// "~" only), so it suits Request.Fill:
//
//	req.Fill(time.Now(), proactive.NewReferenceID())
func NewReferenceID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand.Read panics instead
	return hex.EncodeToString(b[:])
}
