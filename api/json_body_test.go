package api

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tollgate-billing/tollgate/domain"
)

// TestReadAllSized: whatever Content-Length says (right, short, long, absent, past maxBody),
// the body read is the whole body, as io.ReadAll reads it; a right one costs one allocation.
func TestReadAllSized(t *testing.T) {
	body := bytes.Repeat([]byte(`{"customerRef":"user_1"},`), 8000) // 200 kB
	for _, declared := range []int64{int64(len(body)), -1, 0, 1, 1000, int64(len(body)) - 1, int64(len(body)) + 1, 3 * maxBody} {
		for _, rd := range []func() io.Reader{
			func() io.Reader { return bytes.NewReader(body) },
			func() io.Reader { return iotest.HalfReader(bytes.NewReader(body)) },
			func() io.Reader { return iotest.DataErrReader(bytes.NewReader(body)) },
		} {
			got, err := readAllSized(rd(), declared)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("declared %d: %d bytes, %v", declared, len(got), err)
			}
		}
	}
	if allocs := testing.AllocsPerRun(20, func() { _, _ = readAllSized(bytes.NewReader(body), int64(len(body))) }); allocs > 2 {
		t.Errorf("%v allocations for a body of its declared length", allocs)
	}
	if _, err := readAllSized(iotest.ErrReader(io.ErrUnexpectedEOF), 10); err != io.ErrUnexpectedEOF {
		t.Errorf("read error %v", err)
	}
}

// TestReadBodyTooLarge: a body past maxBody is refused as before, declared or not.
func TestReadBodyTooLarge(t *testing.T) {
	big := strings.Repeat(" ", maxBody+1)
	for _, declared := range []int64{-1, int64(len(big)), maxBody} {
		r := httptest.NewRequest("POST", "/v1/usages/bulk", strings.NewReader(big))
		r.ContentLength = declared
		_, err := readBody(httptest.NewRecorder(), r)
		if e := domain.AsError(err); e == nil || e.Field != "body" || !strings.Contains(e.Message, "larger than") {
			t.Fatalf("declared %d: %v", declared, err)
		}
	}
}

// BenchmarkReadBody is reading a bulk body of 1,000 events (bulkBody): io.ReadAll against
// readAllSized.
func BenchmarkReadBody(b *testing.B) {
	body := bulkBody()
	b.Run("io.ReadAll", func(b *testing.B) {
		for b.Loop() {
			_, _ = io.ReadAll(bytes.NewReader(body))
		}
	})
	b.Run("sized", func(b *testing.B) {
		for b.Loop() {
			_, _ = readAllSized(bytes.NewReader(body), int64(len(body)))
		}
	})
}

// TestRefuseNUL: the field named is the same on every call when several hold a NUL (the first in
// member-name and array order), a NUL in a member name names its object, and an escaped
// backslash before "u0000" is no NUL at all.
func TestRefuseNUL(t *testing.T) {
	for body, field := range map[string]string{
		`{"metadata":{"b":"\u0000","a":["x","\u0000"]},"actionType":"\u0000"}`: "actionType",
		`{"metadata":{"b":"\u0000","a":["x","\u0000"]}}`:                       "metadata.a[1]",
		`{"metadata":{"k\u0000":"v"}}`:                                         "metadata",
		`["\u0000"]`:                                                           "[0]",
		`"\u0000"`:                                                             "body",
		`{"note":"\\u0000","path":"c:\\\\u0000"}`:                              "",
		`{"note":"\\\u0000"}`:                                                  "note",
	} {
		for range 20 {
			err := refuseNUL([]byte(body))
			if field == "" {
				if err != nil {
					t.Fatalf("%s: %v", body, err)
				}
				continue
			}
			if e := domain.AsError(err); e == nil || e.Field != field {
				t.Fatalf("%s: %v, want the field %s", body, err, field)
			}
		}
	}
}
