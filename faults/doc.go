// Package faults is the console's fault suite: it runs the real binary on
// loopback and breaks what it stands on — kill -9 in the middle of an
// import (the command line and serve), PostgreSQL stopped and started under
// load, the outbound mail server down and back, a full disk under SQLite —
// then checks that every write the console acknowledged is still there and
// nothing was done twice.
//
// The suite lives in this package's tests. It runs only when
// CONSOLE_FAULT_SUITE=1 (CI sets it; `go test ./...` skips it, it takes
// minutes), as root for the scenarios that start a PostgreSQL cluster of
// their own or mount a small tmpfs. It never touches the shared PostgreSQL
// server beyond creating and dropping its own databases. Figures and what
// each scenario shows are in docs/RELIABILITY.md.
package faults
