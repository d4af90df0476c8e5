package models

import (
	"regexp"
	"strings"
)

// Reply actions: what an inbound message asks for (DESIGN §4).
const (
	ReplyOptOut = "opt_out"
	ReplyOptIn  = "opt_in"
	ReplyHelp   = "help"
	ReplyReview = "review" // mentions a keyword without clearly revoking: a person decides
	ReplyNone   = "none"
)

// Keywords that decide a reply on their own (case, spaces, trailing
// punctuation and politeness aside): the TCPA revocation words of 47 CFR
// 64.1200(a)(12) and the CTIA carrier keywords.
var replyKeywords = map[string]string{
	"STOP": ReplyOptOut, "QUIT": ReplyOptOut, "END": ReplyOptOut, "REVOKE": ReplyOptOut, "OPT OUT": ReplyOptOut,
	"CANCEL": ReplyOptOut, "UNSUBSCRIBE": ReplyOptOut, "STOPALL": ReplyOptOut, "STOP ALL": ReplyOptOut,
	"OPTOUT": ReplyOptOut, "OPT-OUT": ReplyOptOut,
	"START": ReplyOptIn, "UNSTOP": ReplyOptIn,
	"HELP": ReplyHelp, "INFO": ReplyHelp,
}

var (
	// politeness is stripped before the keyword test: "Stop please!" is STOP.
	politeness = regexp.MustCompile(`(?i)\b(please|pls|plz|thanks|thank you|thx|now|asap)\b`)
	nonWord    = regexp.MustCompile(`[^\p{L}\p{N}\- ]+`)
	spaces     = regexp.MustCompile(`\s+`)

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
	}
	// negated keeps "don't stop texting me" and "do not unsubscribe me" out
	// of the automatic path: they go to review.
	negated = regexp.MustCompile(`\b(do not|dont|never|not|wont|will not|cant|cannot)\s+(stop|quit|cancel|unsubscribe|end|remove|opt)\b`)
	// mentions of an opt-out word that did not clearly revoke go to review.
	keywordMention = regexp.MustCompile(`\b(stop|stopall|quit|end|revoke|cancel|unsubscribe|optout|opt out|opt-out|remove)\b`)
)

// ClassifyReply decides what an inbound message asks for.
func ClassifyReply(body string) string {
	text := strings.ToLower(strings.NewReplacer("’", "'", "‘", "'", "`", "'").Replace(body))
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
	if keywordMention.MatchString(flat) {
		return ReplyReview
	}
	return ReplyNone
}
