package main

import (
	"context"
	"flag"
)

func importOptOutsCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	return func(ctx context.Context, env *cliEnv) error { return usagef("not built yet") }
}
