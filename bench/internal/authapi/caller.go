package authapi

import (
	"errors"
	"net"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/bench/internal/record"
)

// Content types of request bodies.
const (
	FormType = "application/x-www-form-urlencoded"
	JSONType = "application/json"
)

// Caller makes one request at a time on behalf of one worker, reusing one
// request and one response object, so that a steady stream of calls does
// not allocate. It is not safe for concurrent use.
type Caller struct {
	req     *fasthttp.Request
	resp    *fasthttp.Response
	timeout time.Duration
}

// NewCaller returns a Caller whose requests fail with a timeout when no
// response has arrived within timeout.
func NewCaller(timeout time.Duration) *Caller {
	return &Caller{req: &fasthttp.Request{}, resp: &fasthttp.Response{}, timeout: timeout}
}

// Post sends body to path on t with the given content type and, when auth is
// not empty, the given Authorization header value. It returns the status and
// the response body; the body is valid only until the next call. The error
// is a transport error or fasthttp.ErrTimeout; HTTP error statuses are not
// errors.
func (c *Caller) Post(t *Target, path, ctype string, auth, body []byte) (int, []byte, error) {
	return c.Do(t, fasthttp.MethodPost, path, ctype, auth, body)
}

// Do sends a request with any method; an empty ctype sends no Content-Type
// and a nil body no body. The results are as for Post.
func (c *Caller) Do(t *Target, method, path, ctype string, auth, body []byte) (int, []byte, error) {
	c.req.Reset()
	c.req.Header.SetMethod(method)
	c.req.SetRequestURI(path)
	c.req.Header.SetHost(t.host)
	if ctype != "" {
		c.req.Header.SetContentType(ctype)
	}
	if len(auth) > 0 {
		c.req.Header.SetBytesV(fasthttp.HeaderAuthorization, auth)
	}
	if body != nil {
		c.req.SetBodyRaw(body)
	}
	return c.do(t)
}

func (c *Caller) do(t *Target) (int, []byte, error) {
	c.resp.Reset()
	if err := t.hc.DoTimeout(c.req, c.resp, c.timeout); err != nil {
		return 0, nil, err
	}
	return c.resp.StatusCode(), c.resp.Body(), nil
}

// RetryAfter returns the Retry-After delay of the last response, in whole
// seconds as RFC 9110 §10.2.3 allows, or 0 when it has none.
func (c *Caller) RetryAfter() time.Duration {
	n, err := fasthttp.ParseUint(c.resp.Header.Peek(fasthttp.HeaderRetryAfter))
	if err != nil {
		return 0
	}
	return time.Duration(n) * time.Second
}

// Classify returns the outcome class of a transport error from Post or Do.
func Classify(err error) record.Class {
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrTimeout):
		return record.Timeout
	case errors.As(err, &ne) && ne.Timeout():
		return record.Timeout
	default:
		return record.Transport
	}
}
