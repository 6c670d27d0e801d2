package api

import (
	"bytes"
	"io"
	"net/http"
)

// A bulk body is up to 1,000 events (about 200 kB). It was decoded twice, once into a
// json.RawMessage to see whether it is an object or a bare array and once into the events,
// and the decoding was most of the Go side's cost of a call. peekUsageBody reads the body once
// and puts it back in r, so decode runs once on the right target with all its checks
// (size, content type, strict fields) unchanged.
func peekUsageBody(w http.ResponseWriter, r *http.Request) []byte {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var rd io.Reader = bytes.NewReader(body)
	if err != nil { // decode reports it (too large, or unreadable) as before
		rd = io.MultiReader(rd, errReader{err})
	}
	r.Body = io.NopCloser(rd)
	return body
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
