// Command console is the Sendara Privacy Console: the web console and JSON
// API (serve) and the operator commands of DESIGN §5. main only wires.
package main

import (
	"os"
	_ "time/tzdata" // business time zones work in minimal containers too
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
