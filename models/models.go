// Package models is the console's data and rules as one store: it opens the
// database (package store) and composes the domain packages built on it —
// accounts, customers, outbox, hooks, consent, imports, requests,
// fulfilment, casework and registers — into DB, whose methods are theirs.
// It also holds what spans every domain: migrating (with the one-time data
// steps written in Go), re-sealing every secret under a new key, and the
// demo and load seeds.
//
// Handlers, jobs and commands hold a *DB; the domain packages never import
// this one, so imports go one way.
package models

import (
	"github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/casework"
	"github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/fulfilment"
	"github.com/sendara/console/models/hooks"
	"github.com/sendara/console/models/imports"
	"github.com/sendara/console/models/outbox"
	"github.com/sendara/console/models/registers"
	"github.com/sendara/console/models/requests"
	"github.com/sendara/console/models/store"
)

// DB is the whole console's store. Each embedded domain store shares the
// one *store.DB, so a method of any domain is a method of DB.
type DB struct {
	*store.DB
	*customers.CustomerStore
	*outbox.OutboxStore
	*accounts.AccountStore
	*hooks.HookStore
	*consent.ConsentStore
	*imports.ImportStore
	*requests.RequestStore
	*fulfilment.FulfilmentStore
	*casework.CaseworkStore
	*registers.RegisterStore
}

// Open connects to the database named by dsn (store.Open) and builds each
// domain's store over it, lower packages first, each sharing those below.
func Open(dsn string, opts ...store.Option) (*DB, error) {
	s, err := store.Open(dsn, opts...)
	if err != nil {
		return nil, err
	}
	return compose(s), nil
}

func compose(s *store.DB) *DB {
	cu := &customers.CustomerStore{DB: s}
	ob := &outbox.OutboxStore{DB: s}
	ac := &accounts.AccountStore{DB: s, CustomerStore: cu, OutboxStore: ob}
	ho := &hooks.HookStore{DB: s, AccountStore: ac, CustomerStore: cu, OutboxStore: ob}
	co := &consent.ConsentStore{DB: s, AccountStore: ac, CustomerStore: cu, HookStore: ho, OutboxStore: ob}
	im := &imports.ImportStore{DB: s, AccountStore: ac, ConsentStore: co, CustomerStore: cu, HookStore: ho, OutboxStore: ob}
	rq := &requests.RequestStore{DB: s, AccountStore: ac, ConsentStore: co, CustomerStore: cu, HookStore: ho, OutboxStore: ob}
	fu := &fulfilment.FulfilmentStore{DB: s, AccountStore: ac, ConsentStore: co, CustomerStore: cu, HookStore: ho,
		ImportStore: im, OutboxStore: ob, RequestStore: rq}
	cw := &casework.CaseworkStore{DB: s, AccountStore: ac, ConsentStore: co, CustomerStore: cu, FulfilmentStore: fu,
		HookStore: ho, ImportStore: im, OutboxStore: ob, RequestStore: rq}
	re := &registers.RegisterStore{DB: s, AccountStore: ac, CaseworkStore: cw, ConsentStore: co, CustomerStore: cu,
		FulfilmentStore: fu, HookStore: ho, ImportStore: im, OutboxStore: ob, RequestStore: rq}
	return &DB{DB: s, CustomerStore: cu, OutboxStore: ob, AccountStore: ac, HookStore: ho, ConsentStore: co,
		ImportStore: im, RequestStore: rq, FulfilmentStore: fu, CaseworkStore: cw, RegisterStore: re}
}
