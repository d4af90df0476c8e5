package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	accounts "github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/modeltest"
)

// TestEnrolmentShowsAScannableQRCode checks the QR code that pquerna/otp
// draws with boombuler/barcode: a 200×200 PNG holding a QR symbol, with a
// finder pattern (dark ring, light ring, dark centre) in three corners.
func TestEnrolmentShowsAScannableQRCode(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	u, err := app.db.CreateUser(context.Background(), modeltest.Staff, accounts.UserInput{
		Email: "officer@sendara.test", Role: accounts.RolePrivacyOfficer, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.get("/login")
	c.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	p := c.get("/login/totp/enrol")
	if p.Status != http.StatusOK {
		t.Fatalf("enrolment page: status %d", p.Status)
	}
	src := p.Doc.Find(`img[alt^="QR code"]`).AttrOr("src", "")
	data, ok := strings.CutPrefix(src, "data:image/png;base64,")
	if !ok {
		t.Fatalf("QR image src %.40q, want a PNG data URL", src)
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("QR image is not a PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != 200 || b.Dy() != 200 {
		t.Fatalf("QR image is %dx%d, want 200x200", b.Dx(), b.Dy())
	}
	dark := func(x, y int) bool {
		r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return r+g+bl < 3*0x8000
	}
	// The symbol starts at the first dark pixel of the diagonal (the
	// image may have a margin); the top-left finder's top edge is 7
	// modules of dark, and the top row ends with the top-right finder.
	o := 0
	for o < b.Dx() && !dark(o, o) {
		o++
	}
	run := 0
	for o+run < b.Dx() && dark(o+run, o) {
		run++
	}
	m := run / 7
	w := b.Dx() - o
	for w > 0 && !dark(o+w-1, o) {
		w--
	}
	if m == 0 || w/m < 21 || (w/m-21)%4 != 0 {
		t.Fatalf("no QR symbol: origin %d, module %d px, width %d px", o, m, w)
	}
	finder := func(x0, y0 int) bool {
		return dark(x0, y0) && !dark(x0+m+m/2, y0+m+m/2) && dark(x0+3*m+m/2, y0+3*m+m/2)
	}
	far := o + w - 7*m
	if !finder(o, o) || !finder(far, o) || !finder(o, far) {
		t.Errorf("finder patterns: top-left %v, top-right %v, bottom-left %v; want all three",
			finder(o, o), finder(far, o), finder(o, far))
	}
}
