package authapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"time"
)

// Admin calls authd's admin listener. It is safe for concurrent use; calls
// are made one at a time.
type Admin struct {
	t    *Target
	auth []byte

	mu sync.Mutex // guards s
	s  *Session
}

// NewAdmin returns an Admin for the admin listener at base, authenticating
// with the admin key.
func NewAdmin(base, key string, timeout time.Duration) (*Admin, error) {
	t, err := NewTarget(base, 1)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	return &Admin{t: t, auth: []byte("Bearer " + key), s: NewSession(timeout)}, nil
}

// ClientSpec describes a client to register, as POST /admin/clients takes it.
type ClientSpec struct {
	Name         string   `json:"name"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	RedirectURIs []string `json:"redirect_uris"`
	Public       bool     `json:"public"`
	FirstParty   bool     `json:"first_party"`
}

// CreateClient registers a client and returns its id and secret.
func (a *Admin) CreateClient(ctx context.Context, spec ClientSpec) (Client, error) {
	if spec.RedirectURIs == nil {
		spec.RedirectURIs = []string{}
	}
	body, err := json.Marshal(spec)
	if err != nil {
		return Client{}, fmt.Errorf("create client: %w", err)
	}
	var out struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	err = a.s.call(ctx, a.t, "POST", "/admin/clients", JSONType, a.auth, body, 201, &out)
	if err != nil {
		return Client{}, fmt.Errorf("create client %s: %w", spec.Name, err)
	}
	if out.ID == "" || (!spec.Public && out.Secret == "") {
		return Client{}, fmt.Errorf("create client %s: answer lacks client_id or client_secret",
			spec.Name)
	}
	return Client{ID: out.ID, Secret: out.Secret}, nil
}

// DeleteClient deletes a client.
func (a *Admin) DeleteClient(ctx context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	path := "/admin/clients/" + url.PathEscape(id)
	if err := a.s.call(ctx, a.t, "DELETE", path, "", a.auth, nil, 0, nil); err != nil {
		return fmt.Errorf("delete client %s: %w", id, err)
	}
	return nil
}

// Metrics returns the Prometheus exposition of the admin listener.
func (a *Admin) Metrics(ctx context.Context) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	body, err := a.s.Get(ctx, a.t, "/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return body, nil
}

// Close closes the admin connection.
func (a *Admin) Close() { a.t.Close() }
