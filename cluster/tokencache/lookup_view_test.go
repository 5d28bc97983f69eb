package tokencache

import (
	"errors"
	"testing"
)

func TestLookupViewHitMissAndCounts(t *testing.T) {
	c, clk := newTestCache(t, Config{MaxBytes: 1 << 20})
	now := clk.Now()
	e := userToken(1, 1, 1, 3)
	fills := 0
	fill := func() (Entry, bool, error) { fills++; return e, true, nil }

	var v View
	buf, active, err := c.LookupView(nil, &v, e.Digest, now, fill)
	if err != nil || !active || fills != 1 {
		t.Fatalf("miss: active %v, err %v, fills %d", active, err, fills)
	}
	checkView(t, "filled", &v, &e)

	var w View
	buf, active, err = c.LookupView(buf[:0], &w, e.Digest, now, fill)
	if err != nil || !active || fills != 1 {
		t.Fatalf("hit: active %v, err %v, fills %d", active, err, fills)
	}
	checkView(t, "hit", &w, &e)
	if st := c.Stats(); st.Hits != 1 || st.Misses != 1 {
		t.Errorf("hits %d misses %d, want 1 and 1", st.Hits, st.Misses)
	}
	if n := testing.AllocsPerRun(100, func() {
		buf, _, _ = c.LookupView(buf[:0], &w, e.Digest, now, fill)
	}); n != 0 {
		t.Errorf("a hit allocates %v times", n)
	}

	c.Delete(e.Digest)
	inactive := func() (Entry, bool, error) { return e, false, nil }
	if _, active, _ := c.LookupView(nil, &v, e.Digest, now, inactive); active {
		t.Error("inactive fill reported active")
	}
	boom := errors.New("store down")
	failing := func() (Entry, bool, error) { return Entry{}, false, boom }
	if _, _, err := c.LookupView(nil, &v, e.Digest, now, failing); !errors.Is(err, boom) {
		t.Errorf("fill error = %v", err)
	}
}

func checkView(t *testing.T, name string, v *View, e *Entry) {
	t.Helper()
	if v.Digest != e.Digest || v.Kind != e.Kind || string(v.UserID) != e.UserID ||
		string(v.Email) != e.Email || v.ClientID != e.ClientID || v.Scope != e.Scope ||
		string(v.FamilyID) != e.FamilyID || v.Generation != e.Generation ||
		v.IssuedAt != e.IssuedAt || v.ExpiresAt != e.ExpiresAt {
		t.Errorf("%s view %+v does not match entry %+v", name, v, e)
	}
}
