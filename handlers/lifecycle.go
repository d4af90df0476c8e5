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
	}
}
