package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
)

// The hand-expanded HMAC must equal crypto/hmac for every length.
func TestHMACPadsMatchCryptoHMAC(t *testing.T) {
	for _, keyLen := range []int{16, 32, 64, 65, 100} {
		key := []byte(strings.Repeat("k", keyLen))
		p := newHMACPads(key)
		for _, n := range []int{0, 1, 46, maxInlineSecret, maxInlineSecret + 1, 1000} {
			msg := strings.Repeat("m", n)
			m := hmac.New(sha256.New, key)
			m.Write([]byte(msg))
			got := p.sum(msg)
			if !hmac.Equal(got[:], m.Sum(nil)) {
				t.Errorf("key %d bytes, message %d bytes: digest differs from crypto/hmac", keyLen, n)
			}
		}
	}
}
