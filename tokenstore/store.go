// Package tokenstore defines authd's durable state (users, clients, token
// families and tokens) behind one interface, Store, and the rules every
// backend must follow. The conformance suite in tokenstore/storetest pins
// those rules; every backend runs it.
//
// A Store never sees a token's plaintext: tokens are stored and looked up by
// Digest alone, so a copy of the store lets no one use a token.
package tokenstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"
	"unsafe"
)

// Sentinel errors. Backends return them (possibly wrapped) and callers match
// them with errors.Is.
var (
	// ErrNotFound: the user, client, token or secret does not exist.
	ErrNotFound = errors.New("not found")
	// ErrEmailTaken: CreateUser found another user with the same email.
	ErrEmailTaken = errors.New("email taken")
	// ErrExists: CreateClient or CreateTokens found the id or digest in use.
	ErrExists = errors.New("already exists")
	// ErrConflict: a conditional write found the state changed underneath it
	// (SetPasswordHash with a stale hash).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the backing database cannot be reached or did not answer
	// in time. The operation may or may not have been applied only when the
	// error came from a commit; callers answer 503.
	ErrUnavailable = errors.New("store unavailable")
)

// Digest identifies a token in the store and in every cache: the SHA-256 of
// the token string.
type Digest [32]byte

// DigestOf returns the digest of a token string.
func DigestOf(token string) Digest {
	// sha256.Sum256 only reads its input, but its argument escapes, so a
	// plain []byte(token) conversion would allocate on every request.
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

// Kind is the type of a token.
type Kind uint8

// Token kinds. The numeric values are stored; do not renumber.
const (
	KindAccess  Kind = 1
	KindRefresh Kind = 2
	KindCode    Kind = 3
)

// String returns the kind's name as RFC 7662 and RFC 7009 hints spell it.
func (k Kind) String() string {
	switch k {
	case KindAccess:
		return "access_token"
	case KindRefresh:
		return "refresh_token"
	case KindCode:
		return "authorization_code"
	}
	return "unknown"
}

// User is a registered account.
type User struct {
	// ID is a UUID in its canonical 36-character form.
	ID string
	// Email is stored lower-cased; lookups are by the lower-cased form.
	Email string
	// PasswordHash is an argon2id hash in PHC string format.
	PasswordHash string
	// Disabled accounts cannot log in and none of their tokens is active.
	Disabled bool
	// Generation counts user-wide revocations. A token records the
	// generation current when it was issued and is active only while that
	// is still the user's generation, so revoking every token of a user is
	// one write.
	Generation uint64
	CreatedAt  time.Time
}

// Client is a registered OAuth 2.0 client.
type Client struct {
	ID string
	// SecretDigest is a keyed digest of the client secret; nil for public
	// clients. Secrets are generated with at least 256 bits of entropy, so a
	// fast digest is enough (a slow hash would only cap throughput).
	SecretDigest []byte
	Name         string
	GrantTypes   []string
	Scopes       []string
	RedirectURIs []string
	Public       bool
	FirstParty   bool
	CreatedAt    time.Time
}

// Family groups every token descended from one login (one password grant or
// one authorization code): the refresh tokens of its rotation chain and the
// access tokens issued with them. Revoking a family revokes all of them.
type Family struct {
	// ID is 32 lowercase hex characters.
	ID       string
	UserID   string
	ClientID string
	// ExpiresAt is the absolute end of the family: no refresh token of the
	// family is active past it, however recently it was rotated.
	ExpiresAt time.Time
	Revoked   bool
	CreatedAt time.Time
}

// Token is the stored record of an issued token. Access tokens for client
// credentials have no UserID and no FamilyID.
type Token struct {
	Digest   Digest
	Kind     Kind
	ClientID string
	UserID   string
	FamilyID string
	Scope    string
	// UserGeneration is the user's Generation when the token was issued.
	UserGeneration uint64
	IssuedAt       time.Time
	ExpiresAt      time.Time
	Revoked        bool

	// UsedAt is set once a single-use token (refresh token, authorization
	// code) has been exchanged; Successor is the digest of the token that
	// replaced it (for a code: the refresh token issued for it).
	UsedAt    time.Time
	Successor Digest

	// RedirectURI and CodeChallenge are set on authorization codes only
	// (RFC 6749 §4.1.3, RFC 7636 §4.6).
	RedirectURI   string
	CodeChallenge string
}

// TokenView is a token together with the state its validity depends on, all
// read in one transaction.
type TokenView struct {
	Token
	// Email is the owning user's email; empty for client tokens.
	Email string
	// CurrentGeneration and UserDisabled are the owning user's current
	// state; zero for client tokens.
	CurrentGeneration uint64
	UserDisabled      bool
	// FamilyRevoked and FamilyExpiresAt describe the token's family; zero
	// when the token has none.
	FamilyRevoked   bool
	FamilyExpiresAt time.Time
	// ClientGone reports that the client the token was issued to has been
	// deleted.
	ClientGone bool
}

// Active reports whether the token may be honoured at now: not expired, not
// revoked by itself, by its family, by a user-wide revocation, by a disabled
// account or by a deleted client. Single-use tokens that were already used
// are not active either.
func (v TokenView) Active(now time.Time) bool {
	switch {
	case v.Revoked, v.ClientGone, v.FamilyRevoked, v.UserDisabled:
		return false
	case !now.Before(v.ExpiresAt):
		return false
	case !v.FamilyExpiresAt.IsZero() && !now.Before(v.FamilyExpiresAt):
		return false
	case v.UserID != "" && v.UserGeneration != v.CurrentGeneration:
		return false
	case !v.UsedAt.IsZero():
		return false
	}
	return true
}

// Exchange outcomes; see ExchangeResult.
const (
	// Exchanged: the old token was unused; it is now used and the new
	// tokens are stored.
	Exchanged = iota + 1
	// Replayed: the old token had been exchanged for the same successor
	// less than the grace window ago; nothing was written. The caller may
	// answer with the successor again.
	Replayed
	// Reused: the old token had already been exchanged outside the grace
	// window (or for a different successor). This is treated as theft: its
	// whole family is now revoked.
	Reused
)

// ExchangeRequest asks Store.Exchange to use up a single-use token.
type ExchangeRequest struct {
	Old  Digest
	Kind Kind
	Now  time.Time
	// Grace is how long after an exchange the same old token may be
	// presented again and get the same successor (Replayed) instead of
	// revoking the family (Reused). Zero disables replay.
	Grace time.Duration
	// New are the tokens to store on success. New[0] becomes the old
	// token's Successor and must be the same digest on every retry, which
	// is what lets a replay be recognised.
	New []Token
}

// ExchangeResult reports what Store.Exchange did.
type ExchangeResult struct {
	// Outcome is Exchanged, Replayed or Reused.
	Outcome int
	// Old is the old token as found before the exchange.
	Old TokenView
	// Successors are the stored tokens of the successful exchange: New on
	// Exchanged, the earlier exchange's tokens on Replayed (looked up by
	// the digests in New), nil on Reused.
	Successors []Token
}

// ThrottleRetention is how long DeleteExpired keeps an account key's
// failed logins after its last lock ended: consecutive failures further
// apart than this are not counted together.
const ThrottleRetention = 24 * time.Hour

// Throttle is the login backoff state of one account key.
type Throttle struct {
	// Failures counts consecutive failed logins.
	Failures int
	// LockedUntil is the earliest time the next attempt may be checked.
	LockedUntil time.Time
}

// Store is authd's durable state. Implementations are safe for concurrent
// use. Every method that returns nil has made its writes durable: a crash
// afterwards loses nothing. A cancelled ctx makes a pending call return
// ctx.Err() (possibly wrapped); whether a write that was cancelled during
// its commit applied is unknown.
type Store interface {
	// CreateUser stores u with its email lower-cased. It returns
	// ErrEmailTaken when another user has the same email, and ErrExists
	// when the ID is in use.
	CreateUser(ctx context.Context, u User) error
	// UserByID and UserByEmail return ErrNotFound for unknown users.
	// UserByEmail expects the lower-cased email.
	UserByID(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	// SetPasswordHash replaces the user's hash if it is still oldHash,
	// returning ErrConflict otherwise. With revoke it also increments the
	// user's Generation in the same write. It returns the updated user.
	SetPasswordHash(ctx context.Context, id, oldHash, newHash string, revoke bool) (User, error)
	// RevokeUser increments the user's Generation, ending every token issued
	// so far, and returns the updated user.
	RevokeUser(ctx context.Context, id string) (User, error)
	// SetDisabled disables or enables the account. Disabling also
	// increments Generation, so re-enabling does not revive old tokens.
	SetDisabled(ctx context.Context, id string, disabled bool) (User, error)

	// Throttle returns the backoff state for key (an opaque account key);
	// a key never seen has the zero Throttle.
	Throttle(ctx context.Context, key string) (Throttle, error)
	// LoginFailed records a failed attempt at now, sets LockedUntil to
	// now+lock(failures) and returns the new state. lock must be a pure
	// function: a backend may call it more than once when it retries.
	LoginFailed(ctx context.Context, key string, now time.Time,
		lock func(failures int) time.Duration) (Throttle, error)
	// LoginSucceeded forgets the key's failures.
	LoginSucceeded(ctx context.Context, key string) error

	// CreateClient stores c, or returns ErrExists when the ID is in use or
	// was used by a deleted client (ids are never reused, so a deleted
	// client's tokens can never come back to life).
	CreateClient(ctx context.Context, c Client) error
	// Client returns ErrNotFound for unknown or deleted clients.
	Client(ctx context.Context, id string) (Client, error)
	// Clients lists every client, ordered by ID.
	Clients(ctx context.Context) ([]Client, error)
	// DeleteClient removes the client; its tokens stop being active
	// (TokenView.ClientGone). ErrNotFound for unknown clients.
	DeleteClient(ctx context.Context, id string) error

	// CreateTokens stores family (when not nil) and tokens in one
	// transaction. ErrExists when a digest or the family ID is in use.
	CreateTokens(ctx context.Context, family *Family, tokens ...Token) error
	// Token returns the token with its dependent state, or ErrNotFound.
	Token(ctx context.Context, d Digest) (TokenView, error)
	// Exchange uses up a single-use token in one conditional write: of any
	// number of concurrent calls for the same old token, at most one gets
	// Exchanged. It returns ErrNotFound when the old token does not exist
	// or is of another kind. An unused token that is not active (expired,
	// revoked, its family or user revoked) gets Outcome 0 and its view. A
	// used token always gets Replayed or Reused, except that a replay
	// whose successors are no longer active gets Outcome 0, so a revoked
	// successor is never handed out again. The caller answers
	// invalid_grant to everything but Exchanged and Replayed.
	Exchange(ctx context.Context, req ExchangeRequest) (ExchangeResult, error)
	// RevokeToken revokes one token; for a refresh token or a code it
	// revokes the token's whole family. It returns the token as it was, or
	// ErrNotFound.
	RevokeToken(ctx context.Context, d Digest) (Token, error)
	// DeleteExpired deletes up to limit rows: tokens that expired before
	// before, families past their absolute expiry with no tokens left, and
	// login throttle state whose LockedUntil is more than ThrottleRetention
	// before before (so attempts at emails nobody owns cannot grow the
	// store without bound). It returns how many rows it deleted.
	DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error)

	// Secret returns the server secret stored under name, storing candidate
	// there first when there is none, so that every node sharing the store
	// agrees on one value. With no stored value and an empty candidate it
	// returns ErrNotFound.
	Secret(ctx context.Context, name string, candidate []byte) ([]byte, error)

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store; calling it again does nothing. Calls after
	// Close fail.
	Close() error
}
