package wire

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// identityInfo names what the derived key is for, so that the same cluster
// key used elsewhere (memberlist's gossip encryption uses it as is) never
// yields related keys.
const identityInfo = "authd cluster peer identity v1"

// errWrongKey: the peer's certificate is not the one the cluster key yields.
var errWrongKey = errors.New("wire: peer does not hold the cluster key")

// NewTLS returns the TLS configurations of a listener and of a dialer for
// the cluster key. Both present, and demand from the other side, one
// certificate: an Ed25519 key derived from the cluster key with HKDF-SHA256,
// self-signed. TLS 1.3 makes each side prove it holds the private key, so a
// peer without the cluster key cannot complete a handshake; certificate
// names and expiry play no part. key must be non-empty.
func NewTLS(key []byte) (server, client *tls.Config, err error) {
	if len(key) == 0 {
		return nil, nil, errors.New("wire: empty cluster key")
	}
	seed, err := hkdf.Key(sha256.New, key, nil, identityInfo, ed25519.SeedSize)
	if err != nil {
		return nil, nil, fmt.Errorf("derive peer key: %w", err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "authd-cluster"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return nil, nil, fmt.Errorf("peer certificate: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errWrongKey
		}
		c, err := x509.ParseCertificate(raw[0])
		if err != nil {
			return errWrongKey
		}
		if k, ok := c.PublicKey.(ed25519.PublicKey); !ok || !k.Equal(pub) {
			return errWrongKey
		}
		return nil
	}
	server = &tls.Config{
		Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13,
		ClientAuth: tls.RequireAnyClientCert, VerifyPeerCertificate: verify,
	}
	client = &tls.Config{
		Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13,
		ServerName: "authd-cluster", VerifyPeerCertificate: verify,
		// The chain is not verified against any CA: verify above pins the
		// one public key the cluster key yields, which is stricter.
		InsecureSkipVerify: true,
	}
	return server, client, nil
}
