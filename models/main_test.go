package models_test

import (
	"os"
	"testing"

	"github.com/sendara/console/models"
)

func TestMain(m *testing.M) {
	models.UseCheapPasswordHashing()
	os.Exit(m.Run())
}
