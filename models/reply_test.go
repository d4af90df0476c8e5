package models_test

import (
	"slices"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/sendara/console/models"
)

func TestClassifyReply(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		// Keywords, whatever the case, spacing or trailing punctuation.
		{"STOP", models.ReplyOptOut},
		{"stop", models.ReplyOptOut},
		{"  Stop. ", models.ReplyOptOut},
		{"STOP!!!", models.ReplyOptOut},
		{"Stop please", models.ReplyOptOut},
		{"quit", models.ReplyOptOut},
		{"End", models.ReplyOptOut},
		{"REVOKE", models.ReplyOptOut},
		{"opt out", models.ReplyOptOut},
		{"Cancel", models.ReplyOptOut},
		{"unsubscribe", models.ReplyOptOut},
		{"STOPALL", models.ReplyOptOut},
		{"stop all", models.ReplyOptOut},
		{"OPTOUT", models.ReplyOptOut},
		{"START", models.ReplyOptIn},
		{"unstop", models.ReplyOptIn},
		{"HELP", models.ReplyHelp},
		{"info?", models.ReplyHelp},
		// Plain-language revocations.
		{"please stop texting me", models.ReplyOptOut},
		{"Remove me from your list", models.ReplyOptOut},
		{"don't contact me again", models.ReplyOptOut},
		{"Don’t contact me again.", models.ReplyOptOut},
		{"unsubscribe me please", models.ReplyOptOut},
		{"Please stop messaging this number", models.ReplyOptOut},
		{"take me off your list", models.ReplyOptOut},
		{"I no longer want these messages", models.ReplyOptOut},
		{"no more texts", models.ReplyOptOut},
		{"leave me alone", models.ReplyOptOut},
		{"Wrong number", models.ReplyOptOut},
		{"opt me out", models.ReplyOptOut},
		{"do not text me", models.ReplyOptOut},
		{"stop calling me", models.ReplyOptOut},
		// Spanish and French keywords, accents or not.
		{"BAJA", models.ReplyOptOut},
		{"baja por favor", models.ReplyOptOut},
		{"Alto", models.ReplyOptOut},
		{"PARAR", models.ReplyOptOut},
		{"cancelar.", models.ReplyOptOut},
		{"Detener", models.ReplyOptOut},
		{"ARRÊT", models.ReplyOptOut},
		{"arret", models.ReplyOptOut},
		{"Arre\u0302t svp", models.ReplyOptOut},
		{"ＢＡＪＡ", models.ReplyOptOut},
		{"AYUDA", models.ReplyHelp},
		{"aide ?", models.ReplyHelp},
		// Spanish and French plain-language revocations.
		{"por favor no me escriban más", models.ReplyOptOut},
		{"No me manden mensajes", models.ReplyOptOut},
		{"dejen de enviarme mensajes", models.ReplyOptOut},
		{"Deja de escribirme!", models.ReplyOptOut},
		{"quiero darme de baja", models.ReplyOptOut},
		{"bórrenme de su lista", models.ReplyOptOut},
		{"No quiero recibir más mensajes", models.ReplyOptOut},
		{"ne m'envoyez plus de messages", models.ReplyOptOut},
		{"Ne m’écrivez plus", models.ReplyOptOut},
		{"arrêtez de m'écrire", models.ReplyOptOut},
		{"Arretez d'envoyer des SMS", models.ReplyOptOut},
		{"désabonnez-moi", models.ReplyOptOut},
		{"Retirez-moi de votre liste svp", models.ReplyOptOut},
		{"je ne veux plus recevoir vos messages", models.ReplyOptOut},
		// Mentions without a clear revocation go to a person.
		{"no puedo parar de reír", models.ReplyReview},
		{"no dejen de escribirme, me encantan", models.ReplyReview},
		{"El precio es muy alto", models.ReplyReview},
		{"¿Puedo cancelar mi cita?", models.ReplyReview},
		{"je n'arrive pas à arrêter de rire", models.ReplyReview},
		{"n'arrêtez pas de m'écrire", models.ReplyReview},
		{"ne pas désabonner", models.ReplyReview},
		{"I can't stop laughing", models.ReplyReview},
		{"When does the sale end?", models.ReplyReview},
		{"Can I cancel my appointment?", models.ReplyReview},
		{"don't stop texting me, I love these", models.ReplyReview},
		{"please do not unsubscribe me", models.ReplyReview},
		// Anything else.
		{"Thanks, see you Tuesday", models.ReplyNone},
		{"What time do you open?", models.ReplyNone},
		{"", models.ReplyNone},
		{"Starting tomorrow works", models.ReplyNone},
		{"Hasta mañana, gracias", models.ReplyNone},
		{"Merci, à mardi", models.ReplyNone},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			if got := models.ClassifyReply(tt.body); got != tt.want {
				t.Errorf("ClassifyReply(%q) = %s, want %s", tt.body, got, tt.want)
			}
		})
	}
}

func FuzzClassifyReply(f *testing.F) {
	for _, s := range []string{"STOP", "please stop texting me", "I can't stop laughing", "hello", "ＳＴＯＰ", "stop\x00",
		"ARRÊT", "no puedo parar de reír", "ne m'envoyez plus de messages", "dejen de enviarme mensajes", "désabonnez-moi", "AYUDA"} {
		f.Add(s)
	}
	actions := []string{models.ReplyOptOut, models.ReplyOptIn, models.ReplyHelp, models.ReplyReview, models.ReplyNone}
	f.Fuzz(func(t *testing.T, body string) {
		got := models.ClassifyReply(body)
		if !slices.Contains(actions, got) {
			t.Fatalf("ClassifyReply(%q) = %q, not an action", body, got)
		}
		// Accents typed decomposed never change what a message asks for.
		if nfd := models.ClassifyReply(norm.NFD.String(body)); nfd != got {
			t.Fatalf("ClassifyReply(%q) = %s but its decomposed form gives %s", body, got, nfd)
		}
		// Shouting a message never changes what it asks for.
		if upper := models.ClassifyReply(toUpperASCII(body)); upper != got {
			t.Fatalf("ClassifyReply(%q) = %s but the upper-case form gives %s", body, got, upper)
		}
	})
}

func toUpperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
