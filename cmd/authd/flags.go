package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// envName is the environment twin of a flag: --refresh-ttl is
// AUTHD_REFRESH_TTL.
func envName(flagName string) string {
	return "AUTHD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseWithEnv parses args into fs after taking defaults from the
// environment twins of its flags: a flag on the command line wins over the
// environment, which wins over the built-in default.
func parseWithEnv(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok || err != nil {
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = fmt.Errorf("%s: %w", envName(f.Name), e)
			return
		}
	})
	if err != nil {
		return err
	}
	return fs.Parse(args)
}
