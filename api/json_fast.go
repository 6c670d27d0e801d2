package api

import (
	"bytes"
	"net/http"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// The usage hot path (POST /v1/usages, /v1/usages/bulk, /v1/limits) decodes with the json/v2
// prototype, which decodes a 1,000-event body about twice as fast as encoding/json; the answers
// of recording (not those of limits or of consume mode) are encoded with it too.
//
// Why two decoders: the API's contract is encoding/json's behaviour — case-insensitive member
// names ("CustomerRef" is accepted), the last of duplicate names wins, invalid UTF-8 becomes
// U+FFFD — and its error answers (jsonError names the field from encoding/json's errors).
// json/v2's defaults are stricter on each of those points, so decodeFast asks v2 first with
// everything strict and, on any refusal at all, starts over with encoding/json. A body that v2
// accepts is one encoding/json decodes to the same value (FuzzUsageDecodeFast checks this);
// every other body, good or bad, gets exactly today's answer.

// strictV2 is v2 at its strictest: names match exactly, unknown members, duplicate names
// (at any depth, metadata included) and invalid UTF-8 are refused, and Unmarshal itself refuses
// anything after the one value. The jsontext ones are v2's defaults, spelt out because
// accepting less than encoding/json is what makes the fast path safe.
var strictV2 = jsonv2.JoinOptions(
	jsonv2.RejectUnknownMembers(true),
	jsonv2.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// decodeFast decodes body into v as decodeBytes does, faster when the body is strict JSON.
// json.RawMessage fields (timestamp, metadata) get the value's bytes verbatim from both: v2
// calls RawMessage's UnmarshalJSON with the raw value, null included, as encoding/json does.
func decodeFast[T any](body []byte, v *T) error {
	if jsonv2.Unmarshal(body, v, strictV2) == nil {
		return refuseNUL(body)
	}
	var zero T
	*v = zero // v2 may have filled part of v before it refused
	return decodeBytes(body, v)
}

// answerV2 encodes answers as encoding/json does (its v1 options: omitempty, nil slices as
// null, map order, U+2028/U+2029 escaped, invalid UTF-8 replaced, time.Time as RFC 3339 with
// nanoseconds), HTML characters unescaped as writeJSON's encoder has them.
var answerV2 = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsontext.EscapeForHTML(false))

// answerBufs holds encoding buffers between calls; a bulk answer is about 250 kB.
var answerBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledAnswer = 1 << 20

// encodeFast writes v's JSON and a newline to buf, as writeJSON's encoder would.
func encodeFast(buf *bytes.Buffer, v any) error {
	if err := jsonv2.MarshalWrite(buf, v, answerV2); err != nil {
		return err
	}
	buf.WriteByte('\n')
	return nil
}

// writeJSONFast is writeJSON through encodeFast. The answer is encoded whole before anything is
// written, so when v2 cannot encode it writeJSON still answers as before.
func writeJSONFast(w http.ResponseWriter, status int, v any) {
	buf := answerBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledAnswer {
			buf.Reset()
			answerBufs.Put(buf)
		}
	}()
	buf.Reset()
	if err := encodeFast(buf, v); err != nil {
		writeJSON(w, status, v)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
