package authapi

import "testing"

func TestField(t *testing.T) {
	tests := []struct {
		name   string
		give   string
		key    string
		want   string
		wantOK bool
	}{
		{"string", `{"access_token":"at_abc","token_type":"Bearer"}`, "access_token", "at_abc", true},
		{"spaces", `{ "active" : true , "sub":"u1"}`, "active", "true", true},
		{"number", `{"expires_in":900}`, "expires_in", "900", true},
		{"last member", `{"a":1,"refresh_token":"rt_x"}`, "refresh_token", "rt_x", true},
		{"escaped quote", `{"e":"a\"b","x":"y"}`, "e", `a\"b`, true},
		{"missing", `{"active":false}`, "sub", "", false},
		{"key as a value", `{"note":"active","active":false}`, "active", "false", true},
		{"prefix of a key", `{"inactive":true,"active":false}`, "active", "false", true},
		{"unterminated", `{"access_token":"at_`, "access_token", "", false},
		{"empty", ``, "active", "", false},
		{"newlines", "{\n  \"active\": true\n}", "active", "true", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Field([]byte(tt.give), tt.key)
			if string(got) != tt.want || ok != tt.wantOK {
				t.Errorf("Field(%s, %q) = %q, %v; want %q, %v", tt.give, tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestActive(t *testing.T) {
	tests := []struct {
		give             string
		wantActive, want bool
	}{
		{`{"active":true,"sub":"u"}`, true, true},
		{`{"active":false}`, false, true},
		{`{"active":"yes"}`, false, false},
		{`{"error":"invalid_client"}`, false, false},
	}
	for _, tt := range tests {
		active, ok := Active([]byte(tt.give))
		if active != tt.wantActive || ok != tt.want {
			t.Errorf("Active(%s) = %v, %v; want %v, %v", tt.give, active, ok, tt.wantActive, tt.want)
		}
	}
}

func TestFieldDoesNotAllocate(t *testing.T) {
	body := []byte(`{"active":true,"sub":"u1","client_id":"dashboard","scope":"openid"}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := Active(body); !ok {
			t.Fatal("no active member")
		}
	})
	if allocs != 0 {
		t.Errorf("Active allocates %v times per call, want 0", allocs)
	}
}

func TestCounters(t *testing.T) {
	expo := []byte(`# HELP authd_cache_hits_total Cache hits.
# TYPE authd_cache_hits_total counter
authd_cache_hits_total 12
authd_cache_misses_total{node="a"} 3
authd_cache_entries 99
authd_requests_total{path="/token"} 7
garbage
`)
	got := Counters(expo, "cache")
	want := map[string]float64{"authd_cache_hits_total": 12, `authd_cache_misses_total{node="a"}`: 3}
	if len(got) != len(want) {
		t.Fatalf("Counters = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Counters[%s] = %v, want %v", k, got[k], v)
		}
	}
}
