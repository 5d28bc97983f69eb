package main

import (
	"context"
	"log/slog"

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
// node.
func startCluster(ctx context.Context, cfg serveConfig, st tokenstore.Store,
	cache *tokencache.Cache, reg prometheus.Registerer, log *slog.Logger) (clusterNode, error) {
	return single{cluster.Local{Cache: cache}}, nil
}

// single is a node that runs alone.
type single struct{ cluster.Local }

func (single) Ready(context.Context) error { return nil }
func (single) Leave(context.Context) error { return nil }
func (single) Close() error                { return nil }
