package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/mail"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/authd/authd/tokenstore"
)

// maxEmailLen is the longest address RFC 5321 §4.5.3.1 lets a mail path
// carry.
const maxEmailLen = 254

// register creates an account from an email and a password.
func (s *Server) register(ctx *fasthttp.RequestCtx) error {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decodeJSON(ctx, &req); err != nil {
		return err
	}
	email := normalizeEmail(req.Email)
	if err := checkEmail(email); err != nil {
		return err
	}
	// The budget is spent before the policy check: scoring a password
	// costs up to tens of milliseconds of CPU.
	if err := s.limitCredentials(ctx); err != nil {
		return err
	}
	if err := s.checkPassword(req.Password, email); err != nil {
		return err
	}
	hash, err := s.cfg.Hasher.Hash(ctx, []byte(req.Password))
	if err != nil {
		return hashError(err)
	}
	u := tokenstore.User{ID: newUUID(), Email: email, PasswordHash: hash, CreatedAt: s.now()}
	sctx, cancel := s.storeContext(ctx)
	defer cancel()
	err = s.cfg.Store.CreateUser(sctx, u)
	if errors.Is(err, tokenstore.ErrEmailTaken) {
		return errorf(fasthttp.StatusConflict, "email_taken",
			"an account with this email already exists")
	}
	if err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusCreated, map[string]string{"user_id": u.ID})
}

// checkEmail accepts a plain addr-spec (RFC 5322 §3.4.1) with a domain, no
// display name, comments or quoting tricks.
func checkEmail(email string) error {
	bad := func(why string) error {
		return errorf(fasthttp.StatusBadRequest, "invalid_email", "%s", why)
	}
	switch {
	case email == "":
		return bad("email is required")
	case len(email) > maxEmailLen:
		return bad("email is longer than 254 bytes")
	case !validText(email) || strings.ContainsAny(email, " \"(),:;<>[\\]"):
		return bad("email contains characters that are not allowed")
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return bad("email must look like name@example.com")
	}
	if strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") {
		return bad("email domain is malformed")
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return bad("email must look like name@example.com")
	}
	return nil
}

// checkPassword applies the password policy and answers 400 weak_password
// with the reason.
func (s *Server) checkPassword(pw, email string) error {
	if err := s.cfg.Policy.Check(pw, email); err != nil {
		return errorf(fasthttp.StatusBadRequest, "weak_password", "%v", err)
	}
	return nil
}

// newUUID returns a random (version 4) UUID in canonical form.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand panics if it cannot read)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
