package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/tollgate-billing/tollgate/domain"
)

// Terms are what a purchase may charge for: who pays whom, on which plan, at which prices. The
// starter records them in Postgres before it starts a purchase; every charge, refund and
// projection write carries their digest, and the activities refuse one never recorded for the
// purchase. A workflow started straight through Temporal (the UI, a CLI, a stolen client
// certificate) with terms the API did not create so moves no money and grants no access.
// Recording beats signing payloads here: no key to distribute and rotate, histories stay
// readable in the stock Temporal UI without a codec server, and the check sits beside the money
// it guards. Plan fields that move no money (name, features, limit) are left out.
type Terms struct {
	PurchaseRef  string
	MerchantRef  string
	CustomerRef  string
	Sandbox      bool
	PlanRef      string
	ProductRef   string
	PlanType     domain.PlanType
	Price        int64
	Currency     string
	BillingCycle domain.BillingCycle
	CycleDays    int
	TrialDays    int
	FreeUnits    int64
	UnitPrice    int64
	Meter        string
	SetupFee     int64
	AccessDays   int
	// PerSeat and Quantity: a per-seat plan charges Price × Quantity. Both are left out of the
	// digest when the plan is not per seat, so terms recorded before seats keep their digest.
	PerSeat  bool  `json:",omitempty"`
	Quantity int64 `json:",omitempty"`
}

// NewTerms are the terms of buying plan as the purchase's input carries them.
func NewTerms(in PurchaseInput) Terms {
	p := in.Plan
	return Terms{PurchaseRef: in.PurchaseRef, MerchantRef: in.MerchantRef, CustomerRef: in.CustomerRef, Sandbox: in.Sandbox,
		PlanRef: p.Ref, ProductRef: p.ProductRef, PlanType: p.Type, Price: p.Price, Currency: p.Currency,
		BillingCycle: p.BillingCycle, CycleDays: p.CycleDays, TrialDays: p.TrialDays, FreeUnits: p.FreeUnits,
		UnitPrice: p.UnitPrice, Meter: p.Meter, SetupFee: p.SetupFee, AccessDays: p.AccessDays, PerSeat: p.PerSeat,
		Quantity: seatsOn(p, in.Quantity)}
}

// seatsOn is the quantity a plan is charged for: q (0 is 1) on a per-seat plan; 0, meaning
// none, on any other.
func seatsOn(p domain.Plan, q int64) int64 {
	if !p.PerSeat {
		return 0
	}
	return domain.Quantity(q)
}

// Digest is a fingerprint of the terms (hex SHA-256 of their JSON).
func (t Terms) Digest() string {
	b, _ := json.Marshal(t) // a struct of strings and numbers always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// termsDigest is the digest of the terms the purchase charges under now.
func (s *State) termsDigest() string {
	return NewTerms(PurchaseInput{PurchaseRef: s.PurchaseRef, MerchantRef: s.MerchantRef, CustomerRef: s.CustomerRef,
		Plan: s.Plan, Sandbox: s.Sandbox, Quantity: s.Quantity}).Digest()
}

// RefundGrantKey names a refund request as the starter records it: the caller's key, the
// payment asked for ("" = the current period's) and the amount (0 = what is left of it).
func RefundGrantKey(requestKey, txnRef string, amount int64) string {
	b, _ := json.Marshal([]any{requestKey, txnRef, amount})
	return string(b)
}
