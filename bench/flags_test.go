package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/authd/authd/bench/internal/load"
)

func TestParseFlags(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "admin.key")
	if err := os.WriteFile(keyFile, []byte("k3y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUTHD_ADMIN_KEY", "")
	tests := []struct {
		name        string
		give        []string
		wantTargets []string
		wantKey     string
		wantPool    int
		wantErr     bool
	}{
		{name: "defaults", wantTargets: []string{"http://127.0.0.1:8080"}, wantPool: defaultPool},
		{
			name:        "repeated and comma-separated targets",
			give:        []string{"-target", "http://a:1,http://b:2", "-target", "http://c:3"},
			wantTargets: []string{"http://a:1", "http://b:2", "http://c:3"},
			wantPool:    defaultPool,
		},
		{
			name:        "key file, pool from the request bound",
			give:        []string{"-admin-key-file", keyFile, "-n", "500"},
			wantTargets: []string{"http://127.0.0.1:8080"}, wantKey: "k3y", wantPool: 500,
		},
		{
			name:        "pool from rate and duration",
			give:        []string{"-rate", "100", "-duration", "3s"},
			wantTargets: []string{"http://127.0.0.1:8080"}, wantPool: 301,
		},
		{name: "no bound at all", give: []string{"-duration", "0"}, wantErr: true},
		{
			name:    "both key flags",
			give:    []string{"-admin-key", "a", "-admin-key-file", keyFile},
			wantErr: true,
		},
		{name: "bad mix", give: []string{"-mix", "introspect=x"}, wantErr: true},
		{name: "zero concurrency", give: []string{"-c", "0"}, wantErr: true},
		{name: "stray argument", give: []string{"introspect"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.give, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseFlags(%q) error = %v, want error %v", tt.give, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if !reflect.DeepEqual(c.targets, tt.wantTargets) || c.adminKey != tt.wantKey ||
				c.pool != tt.wantPool {
				t.Errorf("targets %v key %q pool %d; want %v %q %d",
					c.targets, c.adminKey, c.pool, tt.wantTargets, tt.wantKey, tt.wantPool)
			}
		})
	}
}

func TestAdminKeyFromEnvironment(t *testing.T) {
	t.Setenv("AUTHD_ADMIN_KEY", "from-env")
	c, err := parseFlags(nil, io.Discard)
	if err != nil || c.adminKey != "from-env" {
		t.Errorf("admin key %q, %v; want from-env", c.adminKey, err)
	}
}

func TestPoolSize(t *testing.T) {
	tests := []struct {
		pool int
		m    load.Model
		want int
	}{
		{pool: 7, m: load.Model{Requests: 100}, want: 7},
		{m: load.Model{Requests: 100, Rate: 10, Duration: time.Hour}, want: 100},
		{m: load.Model{Rate: 250, Duration: 2 * time.Second}, want: 501},
		{m: load.Model{Duration: time.Second}, want: defaultPool},
	}
	for _, tt := range tests {
		if got := poolSize(tt.pool, tt.m); got != tt.want {
			t.Errorf("poolSize(%d, %+v) = %d, want %d", tt.pool, tt.m, got, tt.want)
		}
	}
}
