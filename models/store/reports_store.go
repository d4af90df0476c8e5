package store

import calendar "github.com/sendara/console/models/calendar"

// daysBetween counts the calendar days from one date to a later one.
func DaysBetween(from, to calendar.Date) int {
	return int(to.Midnight().Sub(from.Midnight()).Hours() / 24)
}
