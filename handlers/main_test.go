package handlers_test

import (
	"os"
	"testing"

	"github.com/sendara/console/models"
)

func TestMain(m *testing.M) {
	models.UseCheapPasswordHashing()
	code := m.Run()
	stopChromium()
	os.Exit(code)
}
