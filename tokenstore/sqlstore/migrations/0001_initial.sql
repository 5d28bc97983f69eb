-- Version 1: users, login throttles, clients, token families, tokens and
-- server secrets.
--
-- Portable SQL only (CockroachDB and PostgreSQL): INT8 not INT (INT is 4
-- bytes on PostgreSQL, 8 on CockroachDB), TEXT, BYTEA, BOOL, TIMESTAMPTZ,
-- TEXT[]; no sequences (keys are random digests, UUIDs and hex ids); no
-- foreign keys (a token outlives its deleted client, and the checks would
-- cost a read per insert). Every statement is idempotent.

CREATE TABLE IF NOT EXISTS users (
	id TEXT PRIMARY KEY,
	-- Lower-cased by the store; unique.
	email TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	disabled BOOL NOT NULL,
	-- Counts user-wide revocations; see tokenstore.User.Generation.
	generation INT8 NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (email);

CREATE TABLE IF NOT EXISTS throttles (
	account_key TEXT PRIMARY KEY,
	failures INT8 NOT NULL,
	locked_until TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS clients (
	id TEXT PRIMARY KEY,
	-- NULL for public clients.
	secret_digest BYTEA,
	name TEXT NOT NULL,
	grant_types TEXT[] NOT NULL,
	scopes TEXT[] NOT NULL,
	redirect_uris TEXT[] NOT NULL,
	is_public BOOL NOT NULL,
	first_party BOOL NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	-- Set when the client is deleted. The row stays as a tombstone so that
	-- its id is never reused: a new client under the same id would revive
	-- the old client's tokens.
	deleted_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS families (
	id TEXT PRIMARY KEY,
	user_id TEXT NOT NULL,
	client_id TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	revoked BOOL NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS families_expires_at_idx ON families (expires_at);

CREATE TABLE IF NOT EXISTS tokens (
	-- SHA-256 of the token string: random, so inserts spread evenly over
	-- CockroachDB ranges.
	digest BYTEA PRIMARY KEY,
	kind INT8 NOT NULL,
	client_id TEXT NOT NULL,
	-- Empty for client-credentials tokens.
	user_id TEXT NOT NULL,
	family_id TEXT NOT NULL,
	scope TEXT NOT NULL,
	user_generation INT8 NOT NULL,
	issued_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	revoked BOOL NOT NULL,
	-- Set once by the exchange that uses a single-use token up.
	used_at TIMESTAMPTZ,
	successor BYTEA,
	redirect_uri TEXT NOT NULL,
	code_challenge TEXT NOT NULL
);
-- DeleteExpired walks this index in batches.
CREATE INDEX IF NOT EXISTS tokens_expires_at_idx ON tokens (expires_at);
-- DeleteExpired keeps a family while any of its tokens is left.
CREATE INDEX IF NOT EXISTS tokens_family_id_idx ON tokens (family_id);

CREATE TABLE IF NOT EXISTS secrets (
	name TEXT PRIMARY KEY,
	value BYTEA NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
