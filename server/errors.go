package server

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/tokenstore"
)

// Error is the one error value handlers return to answer a request with an
// error: an RFC 6749 §5.2 style code, a description safe to show the client,
// the HTTP status, and the internal cause, which is logged but never sent.
type Error struct {
	Code        string
	Description string
	Status      int
	// RetryAfter, when positive, is sent as a Retry-After header in seconds.
	RetryAfter int
	// Header, when set, is sent as a WWW-Authenticate challenge.
	Challenge string
	Cause     error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.Cause)
	}
	return e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Cause }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Status: status}
}

func invalidRequest(format string, args ...any) *Error {
	return errorf(fasthttp.StatusBadRequest, "invalid_request", format, args...)
}

func invalidGrant(format string, args ...any) *Error {
	return errorf(fasthttp.StatusBadRequest, "invalid_grant", format, args...)
}

// invalidClient answers a failed client authentication (RFC 6749 §5.2): 401
// with a Basic challenge.
func invalidClient(description string) *Error {
	return &Error{
		Code: "invalid_client", Description: description,
		Status: fasthttp.StatusUnauthorized, Challenge: `Basic realm="authd"`,
	}
}

func tooMany(retryAfter int, description string) *Error {
	return &Error{
		Code: "slow_down", Description: description,
		Status: fasthttp.StatusTooManyRequests, RetryAfter: retryAfter,
	}
}

// asError turns any error a handler returned into the Error to send. Store
// outages become 503 temporarily_unavailable; everything unknown becomes a
// 500 server_error that reveals nothing of its cause.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, tokenstore.ErrUnavailable) {
		return &Error{
			Code: "temporarily_unavailable", Description: "the token store is unavailable",
			Status: fasthttp.StatusServiceUnavailable, RetryAfter: 1, Cause: err,
		}
	}
	return &Error{
		Code: "server_error", Description: "internal error",
		Status: fasthttp.StatusInternalServerError, Cause: err,
	}
}

// writeError writes e as the JSON error body every endpoint uses.
func writeError(ctx *fasthttp.RequestCtx, e *Error) {
	ctx.Response.Reset()
	ctx.SetStatusCode(e.Status)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if e.RetryAfter > 0 {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Challenge != "" {
		ctx.Response.Header.Set("WWW-Authenticate", e.Challenge)
	}
	b := appendQuoted([]byte(`{"error":`), e.Code)
	b = append(b, `,"error_description":`...)
	b = append(appendQuoted(b, e.Description), '}')
	ctx.SetBody(b)
}
