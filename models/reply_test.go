package models_test

import (
	"slices"
	"testing"

	consent "github.com/sendara/console/models/consent"
	"golang.org/x/text/unicode/norm"
)

func TestClassifyReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want string
	}{
		// Keywords, whatever the case, spacing or trailing punctuation.
		{"STOP", consent.ReplyOptOut},
		{"stop", consent.ReplyOptOut},
		{"  Stop. ", consent.ReplyOptOut},
		{"STOP!!!", consent.ReplyOptOut},
		{"Stop please", consent.ReplyOptOut},
		{"quit", consent.ReplyOptOut},
		{"End", consent.ReplyOptOut},
		{"REVOKE", consent.ReplyOptOut},
		{"opt out", consent.ReplyOptOut},
		{"Cancel", consent.ReplyOptOut},
		{"unsubscribe", consent.ReplyOptOut},
		{"STOPALL", consent.ReplyOptOut},
		{"stop all", consent.ReplyOptOut},
		{"OPTOUT", consent.ReplyOptOut},
		{"START", consent.ReplyOptIn},
		{"unstop", consent.ReplyOptIn},
		{"HELP", consent.ReplyHelp},
		{"info?", consent.ReplyHelp},
		// Plain-language revocations.
		{"please stop texting me", consent.ReplyOptOut},
		{"Remove me from your list", consent.ReplyOptOut},
		{"don't contact me again", consent.ReplyOptOut},
		{"Don’t contact me again.", consent.ReplyOptOut},
		{"unsubscribe me please", consent.ReplyOptOut},
		{"Please stop messaging this number", consent.ReplyOptOut},
		{"take me off your list", consent.ReplyOptOut},
		{"I no longer want these messages", consent.ReplyOptOut},
		{"no more texts", consent.ReplyOptOut},
		{"leave me alone", consent.ReplyOptOut},
		{"Wrong number", consent.ReplyOptOut},
		{"opt me out", consent.ReplyOptOut},
		{"do not text me", consent.ReplyOptOut},
		{"stop calling me", consent.ReplyOptOut},
		// Spanish and French keywords, accents or not.
		{"BAJA", consent.ReplyOptOut},
		{"baja por favor", consent.ReplyOptOut},
		{"Alto", consent.ReplyOptOut},
		{"PARAR", consent.ReplyOptOut},
		{"cancelar.", consent.ReplyOptOut},
		{"Detener", consent.ReplyOptOut},
		{"ARRÊT", consent.ReplyOptOut},
		{"arret", consent.ReplyOptOut},
		{"Arre\u0302t svp", consent.ReplyOptOut},
		{"ＢＡＪＡ", consent.ReplyOptOut},
		{"AYUDA", consent.ReplyHelp},
		{"aide ?", consent.ReplyHelp},
		// Spanish and French plain-language revocations.
		{"por favor no me escriban más", consent.ReplyOptOut},
		{"No me manden mensajes", consent.ReplyOptOut},
		{"dejen de enviarme mensajes", consent.ReplyOptOut},
		{"Deja de escribirme!", consent.ReplyOptOut},
		{"quiero darme de baja", consent.ReplyOptOut},
		{"bórrenme de su lista", consent.ReplyOptOut},
		{"No quiero recibir más mensajes", consent.ReplyOptOut},
		{"ne m'envoyez plus de messages", consent.ReplyOptOut},
		{"Ne m’écrivez plus", consent.ReplyOptOut},
		{"arrêtez de m'écrire", consent.ReplyOptOut},
		{"Arretez d'envoyer des SMS", consent.ReplyOptOut},
		{"désabonnez-moi", consent.ReplyOptOut},
		{"Retirez-moi de votre liste svp", consent.ReplyOptOut},
		{"je ne veux plus recevoir vos messages", consent.ReplyOptOut},
		// Mentions without a clear revocation go to a person.
		{"no puedo parar de reír", consent.ReplyReview},
		{"no dejen de escribirme, me encantan", consent.ReplyReview},
		{"El precio es muy alto", consent.ReplyReview},
		{"¿Puedo cancelar mi cita?", consent.ReplyReview},
		{"je n'arrive pas à arrêter de rire", consent.ReplyReview},
		{"n'arrêtez pas de m'écrire", consent.ReplyReview},
		{"ne pas désabonner", consent.ReplyReview},
		{"I can't stop laughing", consent.ReplyReview},
		{"When does the sale end?", consent.ReplyReview},
		{"Can I cancel my appointment?", consent.ReplyReview},
		{"don't stop texting me, I love these", consent.ReplyReview},
		{"please do not unsubscribe me", consent.ReplyReview},
		// Anything else.
		{"Thanks, see you Tuesday", consent.ReplyNone},
		{"What time do you open?", consent.ReplyNone},
		{"", consent.ReplyNone},
		{"Starting tomorrow works", consent.ReplyNone},
		{"Hasta mañana, gracias", consent.ReplyNone},
		{"Merci, à mardi", consent.ReplyNone},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			if got := consent.ClassifyReply(tt.body); got != tt.want {
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
	actions := []string{consent.ReplyOptOut, consent.ReplyOptIn, consent.ReplyHelp, consent.ReplyReview, consent.ReplyNone}
	f.Fuzz(func(t *testing.T, body string) {
		got := consent.ClassifyReply(body)
		if !slices.Contains(actions, got) {
			t.Fatalf("ClassifyReply(%q) = %q, not an action", body, got)
		}
		// Accents typed decomposed never change what a message asks for.
		if nfd := consent.ClassifyReply(norm.NFD.String(body)); nfd != got {
			t.Fatalf("ClassifyReply(%q) = %s but its decomposed form gives %s", body, got, nfd)
		}
		// Shouting a message never changes what it asks for.
		if upper := consent.ClassifyReply(toUpperASCII(body)); upper != got {
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
