package handlers_test

import (
	"os"
	"testing"

	accounts "github.com/sendara/console/models/accounts"
)

func TestMain(m *testing.M) {
	accounts.UseCheapPasswordHashing()
	code := m.Run()
	stopChromium()
	os.Exit(code)
}
