// Package adminpages holds the pages for signing in and running the
// console: the account page, users, API keys, customers, webhooks and the
// audit log with its glossary of actions.
package adminpages
