package models

import "context"

// ErasedHash is the erased list's keyed hash of value at customerID, as an
// older console would have stored it for that spelling.
func (db *DB) ErasedHash(ctx context.Context, customerID, value string) (string, error) {
	key, err := db.erasureKey(ctx)
	if err != nil {
		return "", err
	}
	return identifierHash(key, customerID, value), nil
}

// ForgetEmailNormalization removes the marker RenormalizeEmails leaves, as
// on a database last migrated by an older console.
func (db *DB) ForgetEmailNormalization(ctx context.Context) error {
	return db.Gorm.WithContext(ctx).Where("key = ?", emailsNormalizedKey).Delete(&setting{}).Error
}
