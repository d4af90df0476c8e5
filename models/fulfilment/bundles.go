package fulfilment

import (
	"archive/zip"
	"bytes"
	"fmt"
	"slices"
	"strings"

	customers "github.com/sendara/console/models/customers"
	"gorm.io/gorm"
)

// bundleCustomers lists the customers (ids) whose data a bundle holds: the
// controller it was made for, or each customer with a folder in the
// requester's bundle (folders are named by slug, see writeScope).
func bundleCustomers(g *gorm.DB, e *RequestExport) ([]string, error) {
	if e.CustomerID != nil {
		return []string{*e.CustomerID}, nil
	}
	zr, err := zip.NewReader(bytes.NewReader(e.Data), int64(len(e.Data)))
	if err != nil {
		return nil, fmt.Errorf("open the bundle: %w", err)
	}
	var slugs []string
	for _, f := range zr.File {
		if dir, _, ok := strings.Cut(f.Name, "/"); ok && !slices.Contains(slugs, dir) {
			slugs = append(slugs, dir)
		}
	}
	ids := []string{}
	if len(slugs) == 0 {
		return ids, nil
	}
	if err := g.Model(&customers.Customer{}).Where("slug IN ?", slugs).Order("slug").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("read the bundle's customers: %w", err)
	}
	return ids, nil
}
