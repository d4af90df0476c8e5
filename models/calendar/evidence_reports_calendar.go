package calendar

// BusinessDaysBetween counts the business days after from up to and
// including to (from itself does not count); 0 when to is not after from.
func (c *Calendar) BusinessDaysBetween(from, to Date) int {
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if c.BusinessDay(d.Midnight()) {
			n++
		}
	}
	return n
}
