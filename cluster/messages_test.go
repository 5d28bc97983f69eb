package cluster

import (
	"reflect"
	"testing"

	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/tokenstore"
)

func TestMessagesRoundTrip(t *testing.T) {
	h := hello{name: "authd-1", inc: 1 << 60, addr: "10.0.0.1:7947"}
	d := tokenstore.DigestOf("at_x")

	ping := pingReq{from: h, yourInc: 5, applied: 9}
	if got, err := decodePingReq(ping.encode()); err != nil || got != ping {
		t.Errorf("pingReq: %+v, %v", got, err)
	}
	rep := pingReply{inc: 3, seq: 4}
	if got, err := decodePingReply(rep.encode()); err != nil || got != rep {
		t.Errorf("pingReply: %+v, %v", got, err)
	}
	inv := invalidateReq{from: h, seq: 12, inv: tokencache.Invalidation{
		Kind: tokencache.InvalidateUser, ID: "0190a3c4-0000-7000-8000-000000000001", Generation: 3}}
	if got, err := decodeInvalidateReq(inv.encode()); err != nil || got != inv {
		t.Errorf("invalidateReq: %+v, %v", got, err)
	}
	inv.inv = tokencache.Invalidation{Kind: tokencache.InvalidateToken, Digest: d}
	if got, err := decodeInvalidateReq(inv.encode()); err != nil || got != inv {
		t.Errorf("invalidateReq (token): %+v, %v", got, err)
	}
	lk := lookupReq{digest: d, now: 1_700_000_000_123_456_789}
	if got, err := decodeLookupReq(lk.encode()); err != nil || got != lk {
		t.Errorf("lookupReq: %+v, %v", got, err)
	}
	if got, err := decodeHello(enc(nil).hello(h)); err != nil || got != h {
		t.Errorf("hello: %+v, %v", got, err)
	}

	e := tokencache.Entry{Digest: d, Kind: tokenstore.KindAccess,
		UserID: "0190a3c4-0000-7000-8000-000000000001", Email: "ada@example.com",
		ClientID: "dashboard", Scope: "openid", FamilyID: "0123456789abcdef0123456789abcdef",
		Generation: 2, IssuedAt: 1_700_000_000, ExpiresAt: 1_700_000_900}
	got, err := decodeLookupReply(appendActiveEntry(nil, e), d)
	if err != nil || got.status != lookupActive || !reflect.DeepEqual(got.e, e) {
		t.Errorf("active reply: %+v, %v", got, err)
	}
	v := tokencache.View{Kind: e.Kind, UserID: []byte(e.UserID), Email: []byte(e.Email),
		ClientID: e.ClientID, Scope: e.Scope, FamilyID: []byte(e.FamilyID),
		Generation: e.Generation, IssuedAt: e.IssuedAt, ExpiresAt: e.ExpiresAt}
	got, err = decodeLookupReply(appendActiveView(nil, &v), d)
	if err != nil || !reflect.DeepEqual(got.e, e) {
		t.Errorf("reply from a view: %+v, %v", got, err)
	}
	for _, s := range []byte{lookupInactive, lookupUnavailable} {
		if got, err := decodeLookupReply([]byte{s}, d); err != nil || got.status != s {
			t.Errorf("status %d: %+v, %v", s, got, err)
		}
	}
}

// TestMessagesRejectMalformed: every truncation, trailing garbage and an
// unknown status are errors, never panics or partial values.
func TestMessagesRejectMalformed(t *testing.T) {
	full := invalidateReq{from: hello{name: "n", inc: 1, addr: "a:1"}, seq: 2,
		inv: tokencache.Invalidation{Kind: tokencache.InvalidateFamily, ID: "f"}}.encode()
	for i := range full {
		if _, err := decodeInvalidateReq(full[:i]); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
	if _, err := decodeInvalidateReq(append(full, 0)); err == nil {
		t.Error("trailing byte: no error")
	}
	if _, err := decodePingReply(enc(nil).str("\xff\xff\xff\xff\xff\xff\xff\xff\x7f")); err == nil {
		t.Error("absurd length: no error")
	}
	if _, err := decodeLookupReply([]byte{9}, tokenstore.Digest{}); err == nil {
		t.Error("unknown status: no error")
	}
}

func TestParseFaults(t *testing.T) {
	tests := []struct {
		give    string
		want    Faults
		wantErr bool
	}{
		{give: "", want: Faults{}},
		{give: "drop-invalidations=0.5", want: Faults{DropInvalidations: 0.5}},
		{give: " drop-pings=1 , drop-lookups=0.25 ", want: Faults{DropPings: 1, DropLookups: 0.25}},
		{give: "drop-invalidations=2", wantErr: true},
		{give: "drop-everything=0.1", wantErr: true},
		{give: "drop-pings", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseFaults(tt.give)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFaults(%q) = %+v, %v", tt.give, got, err)
		}
		if err == nil {
			if back, _ := ParseFaults(got.String()); back != got {
				t.Errorf("String of %+v does not parse back: %q", got, got.String())
			}
		}
	}
}
