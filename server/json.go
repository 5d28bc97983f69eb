package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fasthttp"
)

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string. Invalid UTF-8 becomes U+FFFD and
// <, >, & are escaped as encoding/json does, so the output is safe to embed
// anywhere. It exists because the hot introspection path writes its answer
// by hand instead of through reflection.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\t':
				b = append(b, '\\', 't')
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// writeJSON answers with status and v encoded as JSON.
func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
	return nil
}

// decodeJSON decodes the request body into v. It answers 415 unless the
// request says it is JSON (which also keeps browsers from posting to JSON
// endpoints cross-site with a plain form) and 400 for a body that is not
// exactly one JSON object of the expected shape.
func decodeJSON(ctx *fasthttp.RequestCtx, v any) error {
	if !isMediaType(ctx.Request.Header.ContentType(), "application/json") {
		return &Error{
			Code: "invalid_request", Description: "content type must be application/json",
			Status: fasthttp.StatusUnsupportedMediaType,
		}
	}
	body := ctx.PostBody()
	if !utf8.Valid(body) {
		return invalidRequest("body is not valid UTF-8")
	}
	if err := unmarshalStrict(body, v); err != nil {
		return invalidRequest("malformed JSON body: %v", err)
	}
	return nil
}

func unmarshalStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// bytesString views b as a string without copying, for reading it while b
// stays unmodified (appending a cached token's text to a response).
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
