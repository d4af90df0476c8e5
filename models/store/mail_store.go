package store

func NullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func StrOrEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
