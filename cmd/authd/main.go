// Command authd is the authentication service: one binary that serves the
// API, migrates the SQL schema, and drives the admin API.
//
//	authd [serve] [flags]      run a node (the default command)
//	authd migrate [flags]      apply the SQL schema migrations
//	authd client …             register, list and delete OAuth clients
//	authd user …               find, revoke, disable and enable accounts
//	authd version              print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // -h printed the usage
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "authd:", err)
		os.Exit(1)
	}
}

// run executes one command. ctx ends on SIGINT or SIGTERM.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "migrate":
		return migrate(ctx, args, stdout, stderr)
	case "client":
		return clientCommand(ctx, args, stdout, stderr)
	case "user":
		return userCommand(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "authd", version)
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage:
  authd [serve] [flags]                 run a node (authd serve -h lists the flags)
  authd migrate [--database-url URL]    apply SQL schema migrations
  authd client create|list|delete …     manage OAuth clients through the admin API
  authd user find|revoke|disable|enable …  manage accounts through the admin API
  authd version
`
