// Package lifecyclepages holds the registers' pages: communications sent
// after an opt-out, incidents, sub-processors, Art. 30 records, legal
// disclosures, account bundles and retention.
package lifecyclepages
