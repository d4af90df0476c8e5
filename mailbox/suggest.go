package mailbox

import (
	"regexp"
	"strings"
)

// maxSuggestText bounds how much text SuggestType reads: what a person
// asks is in the first lines, and a 25 MiB message must not cost seconds.
const maxSuggestText = 64 << 10

// rule recognises one kind of request by the phrases people use for it.
type rule struct {
	kind    string
	pattern *regexp.Regexp
}

// phrases compiles alternatives into one pattern of whole words: one pass
// over the text per kind of request.
func phrases(exprs ...string) *regexp.Regexp {
	return regexp.MustCompile(`\b(?:` + strings.Join(exprs, "|") + `)\b`)
}

// Words for the person's data, used in several phrases: my names the
// person's own, mine also "all", "any" and "the" (delete all data).
const my = `(?:my|our|all my|all of my|all our)(?: personal| private| contact)?`
const mine = `(?:my|our|all my|all of my|all our|the|all the|all|any)(?: personal| private| contact)?`
const data = `(?:data|information|info|details|records?|profile|account|number|phone number|email address|email|contact details|everything)`

var (
	childPhrases = phrases(
		`my (?:child|children|kids?|son|sons|daughter|daughters|minor|stepson|stepdaughter|baby|toddler|teenager|teen)`,
		`our (?:child|children|kids?|son|daughter)`,
		`(?:[1-9]|1[0-7])[- ]years?[- ]old`,
		`under (?:the age of )?13`, `coppa`, `a minor`, `parent(?:al)? (?:of|request|consent)`,
	)
	ccpaPhrases = phrases(`ccpa`, `cpra`, `california`, `cal\. civ\. code`, `1798\.\d+`)

	// Rules in order of precedence: the first that matches wins. Erasure
	// goes before objection because "stop texting me and delete my number"
	// asks for more than an opt-out; a sale opt-out goes before both
	// because it names what to stop.
	rules = []rule{
		// An account taken over or a breach reported (policy §7) goes
		// first: it is urgent whatever else the message asks.
		{AccountCompromise, phrases(
			`(?:my|our|the) (?:sendara |console )?account (?:was|has been|got|is|may have been|might have been|seems to have been) (?:hacked|compromised|taken over|breached|accessed by someone)`,
			`(?:hacked|compromised|stolen) (?:sendara |console )?(?:account|password|credentials|api key|login)`,
			`someone (?:else )?(?:has )?(?:logged|signed|got|broke) (?:in|into) (?:to )?(?:my|our) (?:sendara |console )?account`,
			`unauthori[sz]ed (?:access|login|sign[- ]?in|logins|use of (?:my|our) account)`,
			`(?:account|credential) (?:takeover|compromise)`, `(?:data|security) breach`, `leaked (?:api )?(?:key|password|credentials)`,
			`i did not (?:log|sign) in`, `i didn'?t (?:log|sign) in`,
		)},
		{"opt_out_sale", phrases(
			`do not sell`, `don'?t sell`, `dont sell`, `do not share`, `don'?t share`,
			`(?:stop|quit) (?:selling|sharing)`, `sell or share`, `sale or sharing`, `selling or sharing`,
			`opt(?:[- ])?out of (?:the )?(?:sale|selling|sharing)`, `opt(?:[- ])?out of (?:the )?(?:sale|selling|sharing) (?:or|and) (?:sale|selling|sharing)`,
			`sale of (?:my )?(?:personal )?(?:data|information|info)`,
			`(?:sell|selling|sold) `+mine+` `+data,
		)},
		{"erasure", phrases(
			`delete`, `deleting`, `deletion`, `erase`, `erased`, `erasure`, `erasing`,
			`forget me`, `be forgotten`, `right to be forgotten`, `wipe`, `purge`, `destroy`,
			`remove `+mine+` `+data, `remove me (?:entirely |completely )?from (?:your|all your|the) (?:database|databases|records|system|systems|servers|crm|files)`,
			`remove (?:any|all) (?:trace|record)s? of me`, `get rid of `+mine+` `+data,
		)},
		{"rectification", phrases(
			`correct `+my, `correction`, `rectify`, `rectification`, `fix `+my+` `+data,
			`update `+mine+` (?:`+data+`|address|name|surname|last name|postal address|home address|phone|mobile)`,
			`change `+mine+` (?:`+data+`|address|name|surname|last name|phone|mobile)`,
			`(?:wrong|incorrect|inaccurate|outdated|out of date|misspelled|mistaken) (?:`+data+`|address|name|surname|phone|spelling|date of birth)`,
			my+` (?:`+data+`|address|name|surname|phone|date of birth)(?: you have)? (?:is|are) (?:wrong|incorrect|inaccurate|out of date|outdated|misspelt|misspelled)`,
		)},
		{"restriction", phrases(
			`restrict(?:ed)? (?:the )?(?:processing|use)`, `restriction`, `restrict processing`,
			`limit (?:the )?(?:processing|use)`, `limit the use of my sensitive`, `freeze `+mine+` `+data,
			`(?:pause|suspend) (?:the )?(?:processing|use) of`,
		)},
		{"portability", phrases(
			`export `+mine+` `+data, `export of `+my+` `+data, `portab(?:le|ility)`,
			`machine[- ]readable`, `(?:transfer|move|port) `+mine+` `+data+` (?:to|over)`,
			`in a (?:structured|common|commonly used) (?:format|file)`, `csv (?:file )?(?:of|with) `+my,
		)},
		{"access", phrases(
			`what (?:personal |private )?(?:data|information|info|details) (?:do you|you|does your company|does sendara|have you) (?:have|hold|keep|store|collect|process|got)`,
			`what do you (?:have|hold|keep|store|know) (?:on|about) me`, `what (?:do )?you know about me`,
			`(?:data|information|info|details) (?:do you|you) (?:have|hold|keep|store|process) (?:on|about) me`,
			`(?:a )?copy of `+mine+` `+data, `copies of `+my+` `+data,
			`access request`, `subject access`, `dsar`, `\bsar\b`, `right (?:of|to) access`, `request (?:for )?access`,
			`access (?:to )?`+my+` `+data, `see `+my+` `+data, `see what (?:data|information) you`,
			`which (?:personal )?(?:data|information) (?:do you|you)`, `right to know`, `request to know`,
			`(?:how|where) did you get my (?:number|email|data|information|details)`,
		)},
		{"objection", phrases(
			`stop (?:texting|messaging|contacting|calling|emailing|spamming|sending|marketing|bothering|harassing|imessaging|facetiming)`,
			`quit (?:texting|messaging|contacting|calling)`, `no more (?:texts|messages|calls|emails|marketing)`,
			`unsubscribe`, `opt me out`, `opt(?:[- ])?out`, `do not (?:contact|text|message|call|email)`, `don'?t (?:contact|text|message|call|email)`,
			`remove me from (?:your |the |all )?(?:mailing |marketing |contact |texting |sms |call )?lists?`,
			`take me off`, `object to`, `objection`, `leave me alone`, `stop using `+mine+` `+data,
			`(?:withdraw|revoke) (?:my )?consent`,
		)},
	}

	// otherPhrases recognise a privacy request that says nothing about
	// its kind ("a GDPR request about my data").
	otherPhrases = phrases(
		`gdpr`, `uk gdpr`, `ccpa`, `cpra`, `data protection`, `privacy request`, `privacy rights?`,
		`my (?:personal )?data`, `my personal information`, `my rights`, `data subject`, `privacy policy`,
	)
)

// AccountCompromise is the suggested type of a message reporting a
// compromised account or a breach (policy §7). It is not a privacy
// request type: staff handle it as urgent and open an incident from it.
const AccountCompromise = "account_compromise"

// SuggestType guesses the kind of privacy request a message makes from its
// subject and body: access, portability, rectification, erasure,
// restriction, objection, opt_out_sale, know, delete, correct,
// child_data, other, account_compromise (urgent), or "" when nothing looks like a privacy request.
// Where the text invokes California law (CCPA/CPRA) access, erasure and
// rectification read as know, delete and correct. It is a hint shown to
// staff, who decide; quoted earlier messages are ignored so a reply does
// not echo the console's own wording back.
func SuggestType(subject, body string) string {
	text := normalizeForSuggest(subject + "\n" + unquoted(body))
	kind := ""
	for _, r := range rules {
		if r.pattern.MatchString(text) {
			kind = r.kind
			break
		}
	}
	if kind == "erasure" && childPhrases.MatchString(text) {
		return "child_data"
	}
	if ccpaPhrases.MatchString(text) {
		switch kind {
		case "access":
			kind = "know"
		case "erasure":
			kind = "delete"
		case "rectification":
			kind = "correct"
		}
	}
	if kind == "access" && (strings.Contains(text, "right to know") || strings.Contains(text, "request to know")) {
		kind = "know"
	}
	if kind == "" && otherPhrases.MatchString(text) {
		kind = "other"
	}
	return kind
}

// unquoted drops what a reply quotes: lines starting with '>' and
// everything after an "On ... wrote:" line or an Outlook-style header of
// the original message.
func unquoted(body string) string {
	var b strings.Builder
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		lower := strings.ToLower(t)
		if strings.HasPrefix(lower, "-----original message-----") ||
			(strings.HasPrefix(lower, "on ") && strings.HasSuffix(lower, "wrote:")) ||
			(strings.HasPrefix(lower, "from: ") && b.Len() > 0) {
			break
		}
		if strings.HasPrefix(t, ">") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
		if b.Len() > maxSuggestText {
			break
		}
	}
	return b.String()
}

// normalizeForSuggest lower-cases the text, straightens typographic
// apostrophes and folds all white space to single spaces, so phrases match
// across line breaks.
func normalizeForSuggest(s string) string {
	if len(s) > maxSuggestText {
		s = s[:maxSuggestText]
	}
	s = strings.ToLower(s)
	s = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u02bc", "'", "`", "'").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}
