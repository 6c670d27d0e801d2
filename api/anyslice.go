package api

import "reflect"

// toAnySlice turns any slice into []any so one list writer serves every type; nil becomes [].
func toAnySlice(v any) []any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Slice {
		return []any{}
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out
}
