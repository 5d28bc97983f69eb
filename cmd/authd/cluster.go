package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/cluster"
	"github.com/authd/authd/cluster/tokencache"
	"github.com/authd/authd/server"
	"github.com/authd/authd/tokenstore"
)

// clusterNode is the token cache the server uses, as this node's part of a
// cluster or on its own, with its lifecycle.
type clusterNode interface {
	server.Cache
	// Ready reports whether the node may serve (joined and caught up).
	Ready(ctx context.Context) error
	// Leave leaves the cluster gracefully; Close releases what is left.
	Leave(ctx context.Context) error
	Close() error
}

// startCluster returns the node's token cache: cache alone for a single
// node, or this node's member of the cluster when --cluster-bind is set.
// Joining goes on in the background; Ready reports when it is done.
func startCluster(ctx context.Context, cfg serveConfig, st tokenstore.Store,
	cache *tokencache.Cache, reg prometheus.Registerer, log *slog.Logger) (clusterNode, error) {
	if cfg.ClusterBind == "" {
		return single{cluster.Local{Cache: cache}}, nil
	}
	key, err := clusterKey(cfg.ClusterKey)
	if err != nil {
		return nil, err
	}
	faults, err := cluster.ParseFaults(os.Getenv(cluster.FaultsEnv))
	if err != nil {
		return nil, err
	}
	peerAddr, err := clusterPeerAddr(cfg)
	if err != nil {
		return nil, err
	}
	node, err := cluster.Start(cluster.Config{
		Name: clusterName(cfg), Bind: cfg.ClusterBind, Advertise: cfg.ClusterAdvertise,
		PeerBind: peerAddr, Join: splitList(cfg.ClusterJoin), Key: key,
		Lease: cfg.ClusterLease, StoreTimeout: cfg.DBTimeout,
		Cache: cache, Fill: storeFill(st), Faults: faults, Logger: log, Registry: reg,
	})
	if err != nil {
		return nil, err
	}
	return node, nil
}

// storeFill reads a token for the cluster's forwarded lookups exactly as
// the server's introspection does on a miss.
func storeFill(st tokenstore.Store) cluster.FillFunc {
	return func(ctx context.Context, d tokenstore.Digest, now time.Time) (
		tokencache.Entry, bool, error) {
		return server.ReadToken(ctx, st, d, now)
	}
}

// clusterKey decodes --cluster-key: standard or URL-safe base64, padded or
// not, of 16, 24 or 32 bytes.
func clusterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := e.DecodeString(s); err == nil {
			if len(k) != 16 && len(k) != 24 && len(k) != 32 {
				return nil, fmt.Errorf("--cluster-key must decode to 16, 24 or 32 bytes, not %d",
					len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("--cluster-key is not base64")
}

// clusterName is --cluster-name, or hostname:port of the gossip address,
// which stays the same across restarts and differs between nodes sharing
// a host.
func clusterName(cfg serveConfig) string {
	if cfg.ClusterName != "" {
		return cfg.ClusterName
	}
	host, _ := os.Hostname()
	_, port, _ := net.SplitHostPort(cfg.ClusterBind)
	return host + ":" + port
}

// clusterPeerAddr is --cluster-peer-addr, or the gossip host with the next
// port.
func clusterPeerAddr(cfg serveConfig) (string, error) {
	if cfg.ClusterPeerAddr != "" {
		return cfg.ClusterPeerAddr, nil
	}
	host, port, err := net.SplitHostPort(cfg.ClusterBind)
	if err != nil {
		return "", fmt.Errorf("--cluster-bind: %w", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p == 0 {
		return "", errors.New("--cluster-peer-addr is required when --cluster-bind has no fixed port")
	}
	return net.JoinHostPort(host, strconv.Itoa(p+1)), nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// single is a node that runs alone.
type single struct{ cluster.Local }

func (single) Ready(context.Context) error { return nil }
func (single) Leave(context.Context) error { return nil }
func (single) Close() error                { return nil }
