package models_test

import (
	"testing"

	accounts "github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/modeltest"
)

func TestAUserOfACustomerRequiringTwoStepSignInCannotTurnItOff(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	admin := newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, goodPassword)
	agent := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	if res := login(t, db, agent.Email, goodPassword); res.NeedsMFA {
		t.Fatalf("before the requirement an agent without TOTP signs in with the password alone")
	}
	if err := db.SetRequireMFA(t.Context(), admin.Actor(testIP), true); err != nil {
		t.Fatal(err)
	}
	if res := login(t, db, agent.Email, goodPassword); !res.NeedsMFA {
		t.Errorf("after the requirement the agent's session does not owe a second factor")
	}
	if err := db.DisableTOTP(t.Context(), agent.Actor(testIP), agent, goodPassword); err == nil {
		t.Errorf("DisableTOTP under the customer's requirement = nil, want refused")
	}
	if err := db.SetRequireMFA(t.Context(), modeltest.Staff, true); err == nil {
		t.Errorf("SetRequireMFA by staff = nil, want refused (a customer's setting)")
	}
}
