package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/authd/authd/tokenstore"
)

func testClients(t *testing.T, open Opener) {
	subtest(t, open, "RoundTrip", testClientRoundTrip)
	subtest(t, open, "Exists", testClientExists)
	subtest(t, open, "NotFound", testClientNotFound)
	subtest(t, open, "ListOrdered", testClientsOrdered)
	subtest(t, open, "Delete", testDeleteClient)
	subtest(t, open, "DeletedIDStaysGone", testDeletedClientID)
}

func testClientRoundTrip(t *testing.T, f *fixture) {
	public := f.newClient()
	public.SecretDigest = nil
	public.Public, public.FirstParty = true, false
	public.Scopes, public.RedirectURIs = nil, []string{}
	public.Name = ""

	tests := []struct {
		name string
		give tokenstore.Client
	}{
		{"confidential", f.newClient()},
		{"public", public},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, "CreateClient", f.s.CreateClient(f.ctx, tt.give), nil)
			got, err := f.s.Client(f.ctx, tt.give.ID)
			wantErr(t, "Client", err, nil)
			if d := diffClient(got, tt.give); d != "" {
				t.Errorf("Client: %s", d)
			}
		})
	}
}

func testClientExists(t *testing.T, f *fixture) {
	c := f.createClient()
	dup := f.newClient()
	dup.ID = c.ID
	wantErr(t, "CreateClient", f.s.CreateClient(f.ctx, dup), tokenstore.ErrExists)
	got, err := f.s.Client(f.ctx, c.ID)
	wantErr(t, "Client", err, nil)
	if d := diffClient(got, c); d != "" {
		t.Errorf("Client after refused duplicate: %s", d)
	}
}

func testClientNotFound(t *testing.T, f *fixture) {
	f.createClient()
	_, err := f.s.Client(f.ctx, "unknown")
	wantErr(t, "Client", err, tokenstore.ErrNotFound)
	wantErr(t, "DeleteClient", f.s.DeleteClient(f.ctx, "unknown"), tokenstore.ErrNotFound)
}

func testClientsOrdered(t *testing.T, f *fixture) {
	got, err := f.s.Clients(f.ctx)
	wantErr(t, "Clients", err, nil)
	if len(got) != 0 {
		t.Fatalf("Clients of an empty store = %d clients, want none", len(got))
	}

	var want []tokenstore.Client
	for range 5 {
		want = append(want, f.createClient())
	}
	slices.SortFunc(want, func(a, b tokenstore.Client) int { return strings.Compare(a.ID, b.ID) })
	got, err = f.s.Clients(f.ctx)
	wantErr(t, "Clients", err, nil)
	if len(got) != len(want) {
		t.Fatalf("Clients = %d clients, want %d", len(got), len(want))
	}
	for i := range want {
		if d := diffClient(got[i], want[i]); d != "" {
			t.Errorf("Clients[%d]: %s", i, d)
		}
	}
}

func testDeleteClient(t *testing.T, f *fixture) {
	gone, kept := f.createClient(), f.createClient()
	u := f.createUser()
	lg, lk := f.createLoginOf(u, gone), f.createLoginOf(u, kept)
	cc := f.newToken(tokenstore.KindAccess, gone, tokenstore.User{}, nil)
	f.createTokens(nil, cc)

	wantErr(t, "DeleteClient", f.s.DeleteClient(f.ctx, gone.ID), nil)
	_, err := f.s.Client(f.ctx, gone.ID)
	wantErr(t, "Client of deleted client", err, tokenstore.ErrNotFound)
	wantErr(t, "second DeleteClient", f.s.DeleteClient(f.ctx, gone.ID), tokenstore.ErrNotFound)
	list, err := f.s.Clients(f.ctx)
	wantErr(t, "Clients", err, nil)
	if len(list) != 1 || list[0].ID != kept.ID {
		t.Errorf("Clients after delete = %d clients, want only %s", len(list), kept.ID)
	}

	for _, d := range []tokenstore.Digest{lg.access.Digest, lg.refresh.Digest, cc.Digest} {
		if v := f.view(d); !v.ClientGone || v.Active(f.now) {
			t.Errorf("token of deleted client: ClientGone %v Active %v, want true false",
				v.ClientGone, v.Active(f.now))
		}
	}
	f.wantActive("token of another client", lk.access.Digest, true)
}

// Re-creating a deleted client's ID must not revive its tokens: a store
// either refuses the ID (ErrExists) or keeps the old tokens ClientGone.
func testDeletedClientID(t *testing.T, f *fixture) {
	c := f.createClient()
	tok := f.newToken(tokenstore.KindAccess, c, tokenstore.User{}, nil)
	f.createTokens(nil, tok)
	wantErr(t, "DeleteClient", f.s.DeleteClient(f.ctx, c.ID), nil)

	err := f.s.CreateClient(f.ctx, c)
	if err != nil && !errors.Is(err, tokenstore.ErrExists) {
		t.Fatalf("CreateClient with a deleted ID: %v, want nil or ErrExists", err)
	}
	if v := f.view(tok.Digest); !v.ClientGone || v.Active(f.now) {
		t.Errorf("token of deleted client after re-creation: ClientGone %v Active %v",
			v.ClientGone, v.Active(f.now))
	}
}
