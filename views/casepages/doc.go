// Package casepages holds the privacy-request pages: the public form, the
// queue, the request page and its panels (intake, proofs, fulfilment,
// messages), the requester's status page, the outbox, notifications, the
// dashboard, reports, evidence reports and case files.
package casepages
