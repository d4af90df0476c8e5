package mailbox

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlToText returns the readable text of an HTML body: tags removed,
// entities decoded, scripts, styles and the head left out, block elements
// on their own lines.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	hidden := 0 // depth inside elements whose text is not shown
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyHTMLText(b.String())
		case html.TextToken:
			if hidden == 0 {
				// Line breaks in the source are spaces on the page; only
				// block elements start lines.
				b.WriteString(strings.Map(func(r rune) rune {
					if r == '\n' || r == '\r' || r == '\t' {
						return ' '
					}
					return r
				}, string(z.Text())))
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template:
				switch tt {
				case html.StartTagToken:
					hidden++
				case html.EndTagToken:
					hidden = max(hidden-1, 0)
				}
			case atom.Br, atom.P, atom.Div, atom.Li, atom.Tr, atom.Table, atom.Blockquote,
				atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Hr, atom.Pre:
				b.WriteByte('\n')
			case atom.Td, atom.Th:
				b.WriteByte(' ')
			}
		}
	}
}

// tidyHTMLText collapses the white space HTML does not show: runs of
// spaces within a line, and more than one blank line.
func tidyHTMLText(s string) string {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	var out []string
	blank := false
	for _, line := range strings.Split(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
