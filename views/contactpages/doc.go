// Package contactpages holds the controller side's consent pages: contacts
// and their consent, imports, replies and consent reversals.
package contactpages
