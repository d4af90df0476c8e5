package fulfilment_test

import (
	"os"
	"testing"

	accounts "github.com/sendara/console/models/accounts"
)

func TestMain(m *testing.M) {
	accounts.UseCheapPasswordHashing()
	os.Exit(m.Run())
}
