package authapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Client is an OAuth client the benchmark authenticates as.
type Client struct {
	ID     string
	Secret string // empty for a public client
}

// BasicAuth returns the Authorization header value that authenticates as c
// with HTTP Basic. RFC 6749 §2.3.1: id and secret are form-encoded first.
func (c Client) BasicAuth() []byte {
	raw := url.QueryEscape(c.ID) + ":" + url.QueryEscape(c.Secret)
	return []byte("Basic " + base64.StdEncoding.EncodeToString([]byte(raw)))
}

// Tokens is a token response.
type Tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

// StatusError is an answer with an unexpected status. Code is the OAuth or
// API error code from the body, when it had one.
type StatusError struct {
	Status int
	Code   string
}

func (e *StatusError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("status %d", e.Status)
	}
	return fmt.Sprintf("status %d: %s", e.Status, e.Code)
}

// Session makes setup calls: it decodes answers with encoding/json and waits
// and retries when the server answers 429 or 503, honouring Retry-After,
// until ctx is done. It is not safe for concurrent use; use one per
// goroutine.
type Session struct {
	c *Caller
}

// NewSession returns a Session whose requests time out after timeout.
func NewSession(timeout time.Duration) *Session {
	return &Session{c: NewCaller(timeout)}
}

// call sends a request until it gets an answer other than 429 or 503, and
// decodes a want-status JSON answer into out (when out is not nil). A want
// of 0 accepts any 2xx status.
func (s *Session) call(ctx context.Context, t *Target, method, path, ctype string,
	auth, body []byte, want int, out any) error {
	backoff := 50 * time.Millisecond
	for {
		status, resp, err := s.c.Do(t, method, path, ctype, auth, body)
		if err != nil {
			return fmt.Errorf("%s %s%s: %w", method, t.url, path, err)
		}
		if status == want || (want == 0 && status/100 == 2) {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(resp, out); err != nil {
				return fmt.Errorf("%s %s%s: decode answer: %w", method, t.url, path, err)
			}
			return nil
		}
		if status != 429 && status != 503 {
			return fmt.Errorf("%s %s%s: %w", method, t.url, path, statusError(status, resp))
		}
		wait := s.c.RetryAfter()
		if wait == 0 {
			wait = backoff
			backoff = min(2*backoff, time.Second)
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s %s%s: still %d: %w", method, t.url, path, status, err)
		}
	}
}

func statusError(status int, body []byte) error {
	var e struct {
		Code string `json:"error"`
	}
	_ = json.Unmarshal(body, &e) // a body that is not JSON leaves Code empty
	return &StatusError{Status: status, Code: e.Code}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Register creates a user and returns its id.
func (s *Session) Register(ctx context.Context, t *Target, email, password string) (string, error) {
	body, err := json.Marshal(map[string]string{"email": email, "password": password})
	if err != nil {
		return "", fmt.Errorf("register: %w", err)
	}
	var out struct {
		UserID string `json:"user_id"`
	}
	if err := s.call(ctx, t, "POST", "/register", JSONType, nil, body, 201, &out); err != nil {
		return "", err
	}
	if out.UserID == "" {
		return "", errors.New("register: answer has no user_id")
	}
	return out.UserID, nil
}

// Login runs the password grant for a public client and returns the tokens.
func (s *Session) Login(ctx context.Context, t *Target, clientID, email,
	password string) (Tokens, error) {
	form := url.Values{
		"grant_type": {"password"},
		"username":   {email},
		"password":   {password},
		"client_id":  {clientID},
	}
	return s.token(ctx, t, nil, form, true)
}

// ClientCredentials runs the client credentials grant and returns the access
// token.
func (s *Session) ClientCredentials(ctx context.Context, t *Target, c Client) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	tok, err := s.token(ctx, t, c.BasicAuth(), form, false)
	return tok.Access, err
}

func (s *Session) token(ctx context.Context, t *Target, auth []byte, form url.Values,
	wantRefresh bool) (Tokens, error) {
	var tok Tokens
	body := []byte(form.Encode())
	if err := s.call(ctx, t, "POST", "/token", FormType, auth, body, 200, &tok); err != nil {
		return Tokens{}, err
	}
	if tok.Access == "" || (wantRefresh && tok.Refresh == "") {
		return Tokens{}, fmt.Errorf("%s grant: answer lacks a token", form.Get("grant_type"))
	}
	return tok, nil
}

// Introspect asks t whether token is active, authenticating as c.
func (s *Session) Introspect(ctx context.Context, t *Target, c Client, token string) (bool, error) {
	body := []byte(url.Values{"token": {token}}.Encode())
	var out struct {
		Active *bool `json:"active"`
	}
	err := s.call(ctx, t, "POST", "/introspect", FormType, c.BasicAuth(), body, 200, &out)
	if err != nil {
		return false, err
	}
	if out.Active == nil {
		return false, errors.New("introspect: answer has no active member")
	}
	return *out.Active, nil
}

// Get fetches path from t with an optional Authorization header value and
// returns a copy of the body of a 200 answer.
func (s *Session) Get(ctx context.Context, t *Target, path string, auth []byte) ([]byte, error) {
	var out []byte
	err := s.call(ctx, t, "GET", path, "", auth, nil, 200, nil)
	if err == nil {
		out = append(out, s.c.resp.Body()...)
	}
	return out, err
}
