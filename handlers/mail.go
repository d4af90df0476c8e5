package handlers

import (
	"github.com/sendara/console/models"
)

// queueRequestMail queues a templated mail about r to its requester inside
// tx, with extra template data (a confirmation link).
func (s *Server) queueRequestMail(tx *models.Tx, r *models.PrivacyRequest, kind string, extra map[string]any) error {
	d := models.MailData{Reference: r.Reference, RequesterName: r.RequesterName, DueOn: r.EffectiveDueOn(),
		ReceivedOn: r.ReceivedAt.In(s.cfg.Business.Loc).Format("2006-01-02")}
	if link, ok := extra["Link"].(string); ok {
		d.Link = link
	}
	if err := tx.QueueMail(models.OutboundMail{RequestID: r.ID, Kind: kind, To: r.RequesterEmail, Data: d}); err != nil {
		return err
	}
	return nil
}
