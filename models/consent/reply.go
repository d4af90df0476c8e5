package consent

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Reply actions: what an inbound message asks for (DESIGN §4).
const (
	ReplyOptOut = "opt_out"
	ReplyOptIn  = "opt_in"
	ReplyHelp   = "help"
	ReplyReview = "review" // mentions a keyword without clearly revoking: a person decides
	ReplyNone   = "none"
)

// Keywords that decide a reply on their own (case, accents, spaces,
// trailing punctuation and politeness aside): the TCPA revocation words of
// 47 CFR 64.1200(a)(12), the CTIA carrier keywords, and their Spanish and
// French counterparts (DESIGN §4), written without accents because replies
// are compared without them ("ARRÊT" is "ARRET").
var replyKeywords = map[string]string{
	"STOP": ReplyOptOut, "QUIT": ReplyOptOut, "END": ReplyOptOut, "REVOKE": ReplyOptOut, "OPT OUT": ReplyOptOut,
	"CANCEL": ReplyOptOut, "UNSUBSCRIBE": ReplyOptOut, "STOPALL": ReplyOptOut, "STOP ALL": ReplyOptOut,
	"OPTOUT": ReplyOptOut, "OPT-OUT": ReplyOptOut,
	"BAJA": ReplyOptOut, "ALTO": ReplyOptOut, "PARAR": ReplyOptOut, "CANCELAR": ReplyOptOut, "DETENER": ReplyOptOut,
	"ARRET": ReplyOptOut,
	"START": ReplyOptIn, "UNSTOP": ReplyOptIn,
	"HELP": ReplyHelp, "INFO": ReplyHelp, "AYUDA": ReplyHelp, "AIDE": ReplyHelp,
}

var (
	// politeness is stripped before the keyword test: "Stop please!" is STOP.
	politeness = regexp.MustCompile(`(?i)\b(please|pls|plz|thanks|thank you|thx|now|asap|` +
		`por favor|porfavor|porfa|gracias|ya|ahora|merci|svp|stp|sil vous plait|sil te plait|tout de suite)\b`)
	nonWord = regexp.MustCompile(`[^\p{L}\p{N}\- ]+`)
	spaces  = regexp.MustCompile(`\s+`)

	// revocations are wordings a reasonable person reads as "stop
	// contacting me" (the FCC's standard for revocation in any words).
	revocations = []*regexp.Regexp{
		regexp.MustCompile(`\b(stop|quit|cease|end)\b.{0,25}\b(text|txt|messag|msg|contact|call|send|spam|bother|email|reach|sms)`),
		regexp.MustCompile(`\b(remove|delete|take)\s+(me|us|my (phone|number|cell|email|info|details|data|contact))\b`),
		regexp.MustCompile(`\b(remove|delete|take)\b.{0,30}\b(off|from) (your|the|this|ur) (list|lists|contacts|database|system|texts|messages)\b`),
		regexp.MustCompile(`\b(do not|dont|never|no longer)\s+(text|message|msg|contact|call|email|send|bother|reach|sms)`),
		regexp.MustCompile(`\b(do not|dont|no longer)\s+want\b.{0,30}\b(text|messag|msg|call|email|contact|hear from)`),
		regexp.MustCompile(`\bunsubscribe\b`),
		regexp.MustCompile(`\bopt(ing)?\s*-?\s*(me\s+)?out\b`),
		regexp.MustCompile(`\bno more\b.{0,20}\b(text|messag|msg|call|email|contact|sms)`),
		regexp.MustCompile(`\b(leave me alone|lose (my|this) number|wrong number|stop it|please stop)\b`),

		// Spanish: "no me escriban más", "dejen de enviarme mensajes",
		// "denme de baja", "bórrenme de su lista", "no quiero más mensajes".
		regexp.MustCompile(`\bno\s+(me|nos)\s+(escrib|mand|envi|contact|llam|molest|text)`),
		regexp.MustCompile(`\b(dejen|deja|dejar|dejad|deje|paren|parar|pare|detengan|detener)\s+de\s+(escrib|mand|envi|contact|llam|molest|text)`),
		regexp.MustCompile(`\bde baja\b|\bdesuscrib|\bcancel\w*\s+(mi\s+|la\s+)?suscripcion`),
		regexp.MustCompile(`\b(borr|elimin|quit|saqu|sac)\w*\b.{0,30}\b(de (su|la|tu|sus|esta) (lista|base de datos)|mi (numero|telefono|correo|email))`),
		regexp.MustCompile(`\bno\s+(quiero|deseo)\b.{0,30}\b(mensaje|texto|llamada|correo|sms|email|recibir)`),
		regexp.MustCompile(`\bno mas\b.{0,20}\b(mensaje|texto|llamada|correo|sms|email)`),
		regexp.MustCompile(`\b(numero equivocado|dejenme en paz|dejame en paz)\b`),

		// French (apostrophes dropped: "m'envoyez" reads "menvoyez"):
		// "ne m'envoyez plus de messages", "arrêtez de m'écrire",
		// "désabonnez-moi", "retirez-moi de votre liste".
		regexp.MustCompile(`\bne\s+(me\s+|m|nous\s+)?(envoy|ecri|contact|appel|derang|harcel|texto)\w*\s+plus\b`),
		regexp.MustCompile(`\b(arret|cess)\w*\s+(de\s+|d)(me\s+|m|nous\s+)?(envoy|ecri|contact|appel|derang|harcel|texto|spam)`),
		regexp.MustCompile(`\b(desabonn|desinscri)`),
		regexp.MustCompile(`\b(retir|supprim|enlev|effac)\w*\b.{0,30}\b(de (votre|la|vos|cette) (liste|fichier|base)|mon (numero|adresse|mail|courriel))`),
		regexp.MustCompile(`\bne\s+(veux|souhaite)\s+plus\b.{0,30}\b(message|texto|sms|appel|mail|courriel|recevoir|nouvelles)`),
		regexp.MustCompile(`\b(faux numero|mauvais numero|laissez moi tranquille|fichez moi la paix)\b`),
	}
	// negated keeps "don't stop texting me" and "do not unsubscribe me" out
	// of the automatic path: they go to review.
	// So are "no dejen de escribirme", "no puedo parar de reír" and
	// "n'arrêtez pas de m'écrire".
	negated = regexp.MustCompile(`\b(do not|dont|never|not|wont|will not|cant|cannot)\s+(stop|quit|cancel|unsubscribe|end|remove|opt)\b` +
		`|\bno\s+((puedo|podemos|puede|quiero|quieren)\s+)?(dej|par|deten|cancel|desuscrib|borr|elimin)\w*\b` +
		`|\bn(e\s+)?(arret|cess|desabonn|desinscri|retir|supprim)\w*\s+pas\b|\bne\s+pas\s+(arret|cess|desabonn|desinscri)`)
	// mentions of an opt-out word that did not clearly revoke go to review.
	keywordMention = regexp.MustCompile(`\b(stop|stopall|quit|end|revoke|cancel|unsubscribe|optout|opt out|opt-out|remove` +
		`|baja|alto|parar|paren|cancel\w*|deten\w*|desuscri\w*|arret\w*|desabonn\w*|desinscri\w*)\b`)
)

// withoutAccents lets replies be compared without accents, so "ARRÊT",
// "arret" and a decomposed "arrête" are one word, and full-width letters
// (NFKD) are their ASCII selves. A chain keeps state, so each call has its
// own.
func withoutAccents(s string) string {
	out, _, err := transform.String(transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	if err != nil {
		return s
	}
	return out
}

// ClassifyReply decides what an inbound message asks for.
func ClassifyReply(body string) string {
	text := strings.ToLower(strings.NewReplacer("’", "'", "‘", "'", "`", "'").Replace(withoutAccents(body)))
	text = strings.ReplaceAll(text, "'", "")
	cleaned := strings.TrimSpace(spaces.ReplaceAllString(nonWord.ReplaceAllString(politeness.ReplaceAllString(text, " "), " "), " "))
	if action, ok := replyKeywords[strings.ToUpper(cleaned)]; ok {
		return action
	}
	flat := spaces.ReplaceAllString(nonWord.ReplaceAllString(text, " "), " ")
	if !negated.MatchString(flat) {
		for _, re := range revocations {
			if re.MatchString(flat) {
				return ReplyOptOut
			}
		}
	}
	// A negated revocation word is a mention too, whatever the language.
	if keywordMention.MatchString(flat) || negated.MatchString(flat) {
		return ReplyReview
	}
	return ReplyNone
}
