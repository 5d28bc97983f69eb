package boltstore

import (
	"reflect"
	"testing"
	"time"

	"github.com/authd/authd/tokenstore"
)

func TestTokenCodec(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		name string
		give tokenstore.Token
	}{
		{"zero", tokenstore.Token{}},
		{"client token", tokenstore.Token{Kind: tokenstore.KindAccess, ClientID: "svc",
			Scope: "read", IssuedAt: at, ExpiresAt: at.Add(time.Hour)}},
		{"used refresh token", tokenstore.Token{Kind: tokenstore.KindRefresh, ClientID: "c",
			UserID: "u", FamilyID: "f", UserGeneration: 1 << 40, IssuedAt: at,
			ExpiresAt: at.Add(time.Hour), Revoked: true, UsedAt: at.Add(time.Minute),
			Successor: tokenstore.DigestOf("next")}},
		{"code", tokenstore.Token{Kind: tokenstore.KindCode, RedirectURI: "https://a/cb",
			CodeChallenge: "abc", ExpiresAt: time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.give.Digest = tokenstore.DigestOf(tt.name)
			got, err := decodeToken(tt.give.Digest, encodeToken(tt.give))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.give) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.give)
			}
		})
	}
}

func TestClientCodec(t *testing.T) {
	give := clientRecord{Client: tokenstore.Client{ID: "c", SecretDigest: []byte{1, 2},
		Name: "n", GrantTypes: []string{"password"}, Scopes: []string{"a", "b"},
		Public: true, CreatedAt: time.Unix(1, 2).UTC()}, Deleted: true}
	got, err := decodeClient("c", encodeClient(give))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(got, give) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, give)
	}
}

// Decoders never panic, whatever the bytes.
func FuzzDecode(f *testing.F) {
	f.Add(encodeToken(tokenstore.Token{Kind: tokenstore.KindRefresh, UsedAt: time.Now()}))
	f.Add(encodeClient(clientRecord{Client: tokenstore.Client{Scopes: []string{"a"}}}))
	f.Add(encodeUser(tokenstore.User{Email: "a@b"}))
	f.Add(encodeFamily(familyRecord{Tokens: 3}))
	f.Add(encodeThrottle(tokenstore.Throttle{Failures: 2}))
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _ = decodeToken(tokenstore.Digest{}, p)
		_, _ = decodeClient("", p)
		_, _ = decodeUser("", p)
		_, _ = decodeFamily("", p)
		_, _ = decodeThrottle(p)
	})
}
