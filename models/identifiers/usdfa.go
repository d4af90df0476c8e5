package identifiers

import (
	"errors"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// usDigits is usValidator's answer for ten digits as one automaton: a
// table of digit transitions, walked once per number, where the validator
// runs up to eleven regular expressions in turn. It is built from the very
// patterns the validator compiles (regexp/syntax's programs, by subset
// construction), so it accepts exactly the ten-digit strings the
// validator accepts; FuzzUSValid and TestUSValidMatchesLibrary hold both to
// libphonenumber itself.
type usDigits struct {
	next   [][10]int32 // state × digit → state; -1: no number starting so is valid
	accept []bool      // after ten digits: valid
}

// valid walks national, ten digits.
func (a *usDigits) valid(national string) bool {
	s := int32(0)
	for i := 0; i < len(national); i++ {
		d := national[i] - '0'
		if d > 9 {
			return false
		}
		if s = a.next[s][d]; s < 0 {
			return false
		}
	}
	return a.accept[s]
}

// usDigitsMaxStates bounds the construction: today's US metadata needs
// 153 states; metadata that needed far more would cost more memory than the
// expressions' CPU is worth, and the validator answers instead.
const usDigitsMaxStates = 200_000

var errUSDigitsUnsupported = errors.New("the US patterns use an operator the automaton does not handle")

// buildUSDigits compiles the validator's rule — the general description
// matches, and one of the types does (mobile only when its pattern is not
// the fixed line's) — for numbers of exactly ten digits.
func buildUSDigits(v *usValidator) (*usDigits, error) {
	// progs[0] is the general description's program; any of the others
	// makes a number valid once it matches too. A description that cannot match ten digits
	// (its lengths exclude ten, or its pattern is empty) is left out.
	var progs []*syntax.Prog
	add := func(d *usNumberDesc) error {
		if !d.fitsTen() {
			progs = append(progs, nil)
			return nil
		}
		re, err := syntax.Parse(d.source, syntax.Perl)
		if err != nil {
			return err
		}
		p, err := syntax.Compile(re.Simplify())
		if err != nil {
			return err
		}
		progs = append(progs, p)
		return nil
	}
	if err := add(v.general); err != nil {
		return nil, err
	}
	for _, d := range v.types {
		if err := add(d); err != nil {
			return nil, err
		}
	}
	if !v.sameMobile {
		if err := add(v.mobile); err != nil {
			return nil, err
		}
	}

	// A state is, per description, the set of its program's instructions
	// the digits so far can have reached (after empty moves), and how many
	// digits were read: states are only compared at the same depth.
	type state struct {
		depth int
		sets  [][]uint32
	}
	key := func(s state) string {
		var b strings.Builder
		b.WriteString(strconv.Itoa(s.depth))
		for _, set := range s.sets {
			b.WriteByte('|')
			for _, pc := range set {
				b.WriteString(strconv.FormatUint(uint64(pc), 36))
				b.WriteByte(',')
			}
		}
		return b.String()
	}
	var unsupported bool
	closure := func(p *syntax.Prog, from []uint32) []uint32 {
		seen := map[uint32]bool{}
		var out []uint32
		stack := slices.Clone(from)
		for len(stack) > 0 {
			pc := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[pc] {
				continue
			}
			seen[pc] = true
			in := &p.Inst[pc]
			switch in.Op {
			case syntax.InstAlt, syntax.InstAltMatch:
				stack = append(stack, in.Out, in.Arg)
			case syntax.InstCapture, syntax.InstNop:
				stack = append(stack, in.Out)
			case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL, syntax.InstMatch:
				out = append(out, pc)
			case syntax.InstFail:
			default: // empty-width assertions: the validator anchors the whole pattern, nothing else
				unsupported = true
			}
		}
		slices.Sort(out)
		return out
	}
	matched := func(p *syntax.Prog, set []uint32) bool {
		for _, pc := range set {
			if p.Inst[pc].Op == syntax.InstMatch {
				return true
			}
		}
		return false
	}
	alive := func(sets [][]uint32) bool {
		if len(sets[0]) == 0 {
			return false // the general description can no longer match
		}
		for _, set := range sets[1:] {
			if len(set) > 0 {
				return true
			}
		}
		return false
	}

	start := state{sets: make([][]uint32, len(progs))}
	for i, p := range progs {
		if p != nil {
			start.sets[i] = closure(p, []uint32{uint32(p.Start)})
		}
	}
	a := &usDigits{}
	index := map[string]int32{}
	var states []state
	intern := func(s state) int32 {
		k := key(s)
		if id, ok := index[k]; ok {
			return id
		}
		id := int32(len(states))
		index[k] = id
		states = append(states, s)
		a.next = append(a.next, [10]int32{})
		accept := false
		if s.depth == 10 {
			if matched(progs[0], s.sets[0]) {
				for i, p := range progs[1:] {
					accept = accept || (p != nil && matched(p, s.sets[i+1]))
				}
			}
		}
		a.accept = append(a.accept, accept)
		return id
	}
	intern(start)
	for id := 0; id < len(states); id++ {
		if len(states) > usDigitsMaxStates {
			return nil, errors.New("the US patterns need too many automaton states")
		}
		s := states[id]
		for d := range 10 {
			a.next[id][d] = -1
			if s.depth == 10 {
				continue // an eleventh digit: never valid (usE164 never asks)
			}
			n := state{depth: s.depth + 1, sets: make([][]uint32, len(progs))}
			for i, p := range progs {
				if p == nil {
					continue
				}
				var moved []uint32
				for _, pc := range s.sets[i] {
					in := &p.Inst[pc]
					if in.Op != syntax.InstMatch && in.MatchRune(rune('0'+d)) {
						moved = append(moved, in.Out)
					}
				}
				if len(moved) > 0 {
					n.sets[i] = closure(p, moved)
				}
			}
			if !alive(n.sets) {
				continue
			}
			a.next[id][d] = intern(n)
		}
		if unsupported {
			return nil, errUSDigitsUnsupported
		}
	}
	return a, nil
}
