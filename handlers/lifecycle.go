package handlers

import "net/http"

// lifecycleRoutes are the registers of issue 13 beyond retention:
// communication records and the sent-after-opt-out report, the breach
// register, sub-processors and policy versions, Art. 30(2) records and
// legal disclosures.
func (s *Server) lifecycleRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	return []route{
		{Method: post, Path: "/api/v1/communications", Handler: s.apiRecordCommunications, Access: apiKeyAccess, Perm: can("contacts", "write")},
		{Method: get, Path: "/communications/sent-after-opt-out", Handler: s.sentAfterOptOut, Access: permitted, Perm: can("communications", "read")},
		{Method: get, Path: "/communications/sent-after-opt-out.csv", Handler: s.sentAfterOptOutCSV, Access: permitted, Perm: can("communications", "read")},

		{Method: get, Path: "/incidents", Handler: s.incidents, Access: permitted, Perm: can("incidents", "read")},
		{Method: post, Path: "/incidents", Handler: s.incidentCreate, Access: permitted, Perm: can("incidents", "write")},
		{Method: post, Path: "/incidents/report", Handler: s.incidentReport, Access: permitted, Perm: can("incidents", "report")},
		{Method: post, Path: "/incidents/settings", Handler: s.incidentSettings, Access: permitted, Perm: can("incidents", "settings")},
		{Method: get, Path: "/incidents/:id", Handler: s.incident, Access: permitted, Perm: can("incidents", "read")},
		{Method: post, Path: "/incidents/:id/customers", Handler: s.incidentAddCustomer, Access: permitted, Perm: can("incidents", "write")},
		{Method: post, Path: "/incidents/:id/notices", Handler: s.incidentNotices, Access: permitted, Perm: can("incidents", "write")},
		{Method: post, Path: "/incidents/:id/status", Handler: s.incidentStatus, Access: permitted, Perm: can("incidents", "write")},
		{Method: post, Path: "/incidents/:id/notes", Handler: s.incidentNote, Access: permitted, Perm: can("incidents", "write")},
		{Method: post, Path: "/requests/:id/incident", Handler: s.incidentFromRequest, Access: permitted, Perm: can("incidents", "write")},

		{Method: get, Path: "/subprocessors", Handler: s.subprocessors, Access: permitted, Perm: can("subprocessors", "read")},
		{Method: post, Path: "/subprocessors", Handler: s.subprocessorAdd, Access: permitted, Perm: can("subprocessors", "write")},
		{Method: post, Path: "/subprocessors/settings", Handler: s.subprocessorSettings, Access: permitted, Perm: can("subprocessors", "settings")},
		{Method: post, Path: "/subprocessors/:id/remove", Handler: s.subprocessorRemove, Access: permitted, Perm: can("subprocessors", "write")},
		{Method: post, Path: "/subprocessors/:id/object", Handler: s.subprocessorObject, Access: permitted, Perm: can("subprocessors", "object")},
		{Method: post, Path: "/policy-versions", Handler: s.policyVersionAdd, Access: permitted, Perm: can("subprocessors", "write")},

		{Method: get, Path: "/processing-records", Handler: s.processingRecords, Access: permitted, Perm: can("processing_records", "read")},
		{Method: get, Path: "/processing-records.csv", Handler: s.processingRecordsCSV, Access: permitted, Perm: can("processing_records", "read")},

		{Method: get, Path: "/legal-disclosures", Handler: s.disclosures, Access: permitted, Perm: can("legal_disclosures", "read")},
		{Method: post, Path: "/legal-disclosures", Handler: s.disclosureCreate, Access: permitted, Perm: can("legal_disclosures", "write")},
		{Method: get, Path: "/account-bundles", Handler: s.accountBundles, Access: permitted, Perm: can("account_bundles", "export")},
		{Method: post, Path: "/account-bundles", Handler: s.accountBundleDownload, Access: permitted, Perm: can("account_bundles", "export")},
		{Method: post, Path: "/requests/:id/no-sale-answer", Handler: s.requestNoSaleAnswer, Access: permitted, Perm: can("requests", "write")},

		{Method: get, Path: "/legal-disclosures/transparency.csv", Handler: s.transparencyCSV, Access: permitted, Perm: can("legal_disclosures", "read")},
	}
}
