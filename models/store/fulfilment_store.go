package store

import (
	"slices"
)

func Dedupe(vs []string) []string {
	slices.Sort(vs)
	return slices.Compact(vs)
}
