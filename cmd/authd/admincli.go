package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// adminClient calls the admin API for the client and user commands.
type adminClient struct {
	base string
	key  string
	http *http.Client
}

// adminFlags adds the flags every admin command takes to fs and returns a
// constructor for the client they describe.
func adminFlags(fs *flag.FlagSet) func() (*adminClient, error) {
	base := fs.String("admin-url", "http://127.0.0.1:8081", "admin API base URL")
	key := fs.String("admin-key", "", "admin key (default: read from <data-dir>/admin.key)")
	dir := fs.String("data-dir", "./authd-data", "data directory holding admin.key")
	return func() (*adminClient, error) {
		k := *key
		if k == "" {
			b, err := os.ReadFile(filepath.Join(*dir, "admin.key"))
			if err != nil {
				return nil, fmt.Errorf("no --admin-key and %w", err)
			}
			k = strings.TrimSpace(string(b))
		}
		return &adminClient{
			base: strings.TrimSuffix(*base, "/"), key: k,
			http: &http.Client{Timeout: 30 * time.Second},
		}, nil
	}
}

// do sends one admin request and decodes the JSON answer into out (when
// not nil). Error answers become errors carrying the server's description.
func (a *adminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s: %s (HTTP %d)", e.Error, e.Description, resp.StatusCode)
		}
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// listFlag collects a repeatable or comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

const clientUsage = `usage:
  authd client create --name NAME [--grant G]... [--scope S]... [--redirect-uri U]...
                      [--public] [--first-party]
  authd client list
  authd client delete ID
admin flags: --admin-url, --admin-key, --data-dir
`

// clientCommand runs authd client create|list|delete.
func clientCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(strings.TrimSpace(clientUsage))
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("authd client "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	admin := adminFlags(fs)
	var grants, scopes, uris listFlag
	var name string
	var public, firstParty bool
	if sub == "create" {
		fs.StringVar(&name, "name", "", "client name (required)")
		fs.Var(&grants, "grant", "grant type, repeatable: password, refresh_token, "+
			"client_credentials, authorization_code (default client_credentials)")
		fs.Var(&scopes, "scope", "allowed scope, repeatable (introspect lets it call /introspect)")
		fs.Var(&uris, "redirect-uri", "redirect URI, repeatable")
		fs.BoolVar(&public, "public", false, "public client (no secret)")
		fs.BoolVar(&firstParty, "first-party", false, "first-party client (password grant, no consent)")
	}
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	a, err := admin()
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		if len(grants) == 0 {
			grants = listFlag{"client_credentials"}
		}
		var out map[string]any
		err := a.do(ctx, http.MethodPost, "/admin/clients", map[string]any{
			"name": name, "grant_types": grants, "scopes": nonNil(scopes),
			"redirect_uris": nonNil(uris), "public": public, "first_party": firstParty,
		}, &out)
		if err != nil {
			return err
		}
		return printJSON(stdout, out)
	case "list":
		var out map[string]any
		if err := a.do(ctx, http.MethodGet, "/admin/clients", nil, &out); err != nil {
			return err
		}
		return printJSON(stdout, out["clients"])
	case "delete":
		if fs.NArg() != 1 {
			return errors.New("usage: authd client delete ID")
		}
		return a.do(ctx, http.MethodDelete, "/admin/clients/"+url.PathEscape(fs.Arg(0)), nil, nil)
	}
	return fmt.Errorf("unknown client command %q\n%s", sub, clientUsage)
}

const userUsage = `usage:
  authd user find EMAIL
  authd user revoke|disable|enable USER_ID
admin flags: --admin-url, --admin-key, --data-dir
`

// userCommand runs authd user find|revoke|disable|enable.
func userCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(strings.TrimSpace(userUsage))
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("authd user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	admin := adminFlags(fs)
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(strings.TrimSpace(userUsage))
	}
	a, err := admin()
	if err != nil {
		return err
	}
	var out map[string]any
	arg := fs.Arg(0)
	switch sub {
	case "find":
		err = a.do(ctx, http.MethodGet, "/admin/users?email="+url.QueryEscape(arg), nil, &out)
	case "revoke", "disable", "enable":
		err = a.do(ctx, http.MethodPost, "/admin/users/"+url.PathEscape(arg)+"/"+sub, nil, &out)
	default:
		return fmt.Errorf("unknown user command %q\n%s", sub, userUsage)
	}
	if err != nil {
		return err
	}
	return printJSON(stdout, out)
}

func nonNil(l listFlag) []string {
	if l == nil {
		return []string{}
	}
	return l
}
