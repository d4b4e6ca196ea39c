package datastore

// The decoders, for the fuzz tests of package datastore_test.
var (
	DecodeResponse      = decodeResponse
	DecodeQueuedResults = decodeQueuedResults
)
